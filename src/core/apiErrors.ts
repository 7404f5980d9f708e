export { ApiArgumentError } from '../shared/errors';
