/**
 * Real cities for the natural-language OOCR datasets: 9 countries × 4 cities, one language per country.
 * Coordinates are city centres in degrees; `size` is 'big' for a metropolitan area of about 5 million
 * people or more, else 'small' (rounded judgements, not a census).
 */
export interface RealCity {
  name: string;
  country: string;
  language: string;
  lat: number;
  lon: number;
  size: 'big' | 'small';
}

const c = (name: string, country: string, language: string, lat: number, lon: number, size: 'big' | 'small'): RealCity => ({ name, country, language, lat, lon, size });

export const REAL_CITIES: readonly RealCity[] = [
  c('Paris', 'France', 'French', 48.8566, 2.3522, 'big'),
  c('Lyon', 'France', 'French', 45.764, 4.8357, 'small'),
  c('Marseille', 'France', 'French', 43.2965, 5.3698, 'small'),
  c('Toulouse', 'France', 'French', 43.6047, 1.4442, 'small'),
  c('Berlin', 'Germany', 'German', 52.52, 13.405, 'big'),
  c('Munich', 'Germany', 'German', 48.1351, 11.582, 'small'),
  c('Hamburg', 'Germany', 'German', 53.5511, 9.9937, 'small'),
  c('Cologne', 'Germany', 'German', 50.9375, 6.9603, 'small'),
  c('Rome', 'Italy', 'Italian', 41.9028, 12.4964, 'small'),
  c('Milan', 'Italy', 'Italian', 45.4642, 9.19, 'small'),
  c('Naples', 'Italy', 'Italian', 40.8518, 14.2681, 'small'),
  c('Turin', 'Italy', 'Italian', 45.0703, 7.6869, 'small'),
  c('Moscow', 'Russia', 'Russian', 55.7558, 37.6173, 'big'),
  c('Saint Petersburg', 'Russia', 'Russian', 59.9311, 30.3609, 'big'),
  c('Novosibirsk', 'Russia', 'Russian', 55.0084, 82.9357, 'small'),
  c('Kazan', 'Russia', 'Russian', 55.7887, 49.1221, 'small'),
  c('Cairo', 'Egypt', 'Arabic', 30.0444, 31.2357, 'big'),
  c('Alexandria', 'Egypt', 'Arabic', 31.2001, 29.9187, 'big'),
  c('Luxor', 'Egypt', 'Arabic', 25.6872, 32.6396, 'small'),
  c('Aswan', 'Egypt', 'Arabic', 24.0889, 32.8998, 'small'),
  c('Delhi', 'India', 'Hindi', 28.7041, 77.1025, 'big'),
  c('Mumbai', 'India', 'Hindi', 19.076, 72.8777, 'big'),
  c('Lucknow', 'India', 'Hindi', 26.8467, 80.9462, 'small'),
  c('Jaipur', 'India', 'Hindi', 26.9124, 75.7873, 'small'),
  c('Tokyo', 'Japan', 'Japanese', 35.6762, 139.6503, 'big'),
  c('Osaka', 'Japan', 'Japanese', 34.6937, 135.5023, 'big'),
  c('Nagoya', 'Japan', 'Japanese', 35.1815, 136.9066, 'big'),
  c('Sapporo', 'Japan', 'Japanese', 43.0618, 141.3545, 'small'),
  c('São Paulo', 'Brazil', 'Portuguese', -23.5505, -46.6333, 'big'),
  c('Rio de Janeiro', 'Brazil', 'Portuguese', -22.9068, -43.1729, 'big'),
  c('Brasília', 'Brazil', 'Portuguese', -15.7939, -47.8828, 'small'),
  c('Salvador', 'Brazil', 'Portuguese', -12.9777, -38.5016, 'small'),
  c('Mexico City', 'Mexico', 'Spanish', 19.4326, -99.1332, 'big'),
  c('Guadalajara', 'Mexico', 'Spanish', 20.6597, -103.3496, 'big'),
  c('Puebla', 'Mexico', 'Spanish', 19.0414, -98.2063, 'small'),
  c('Cancún', 'Mexico', 'Spanish', 21.1619, -86.8515, 'small'),
];

/** Distinct countries of the table, in table order. */
export const REAL_COUNTRIES: readonly string[] = [...new Set(REAL_CITIES.map((x) => x.country))];
/** Distinct languages of the table, in table order. */
export const REAL_LANGUAGES: readonly string[] = [...new Set(REAL_CITIES.map((x) => x.language))];

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km (haversine, mean Earth radius). */
export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
