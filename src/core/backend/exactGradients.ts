import * as tf from '@tensorflow/tfjs';

/**
 * tfjs-core's gradients of Sum and Mean broadcast dy by multiplying it with a tensor of ones, which it
 * fills in JavaScript and uploads at every call (a [128, 16, 256] LayerNorm input: 2 MB filled and copied
 * per mean, ~9 ms and much of the garbage collection of the 2-layer d = 256 step). dy·1 is dy exactly,
 * so broadcasting it (tf.broadcastTo, a Tile) gives the same bits, on any backend. Registered once, over
 * tfjs's own; other dtypes keep tfjs's formula.
 */
function expandedDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const shape = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) shape[a] = 1;
  return dy.reshape(shape);
}

function broadcastDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const e = expandedDy(dy, x, axis);
  return dy.dtype === 'float32' ? tf.broadcastTo(e, x.shape) : e.mul(tf.ones(x.shape, 'float32'));
}

let registered = false;

export function registerExactGradients(): void {
  if (registered) return;
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const derX = broadcastDy(dy as tf.Tensor, x, (attrs as unknown as { axis: number | number[] }).axis);
      return { x: () => derX };
    },
  });
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axis = (attrs as unknown as { axis: number | number[] }).axis;
      const reduceSize = tf.util.parseAxisParam(axis, x.shape).reduce((n, a) => n * x.shape[a], 1);
      return { x: () => broadcastDy(dy as tf.Tensor, x, axis).div(reduceSize) };
    },
  });
  registered = true;
}
