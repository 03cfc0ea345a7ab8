// A daily price series (the S&P 500's closes from vega-datasets' sp500-2000.csv) as a forecasting problem: the lecture's
// sequence to sequence example. Inputs are daily log returns, r_t = ln(p_t / p_{t-1}), normalised by the mean and
// standard deviation of the training days; the target at every step is the next day's normalised return. Nothing here
// reads a file or touches a GPU: the parser takes the file's text and its name (for errors), the rest is arithmetic.
import { InputError } from '../errors.js';

export interface PriceSeries {
  file: string;
  dates: string[];       // [n] ISO dates, increasing
  close: Float64Array;   // [n] closing prices, positive
}

/**
 * Parses a CSV with a header naming a `date` column and a `column` of prices (default 'close'). Every failure is an
 * InputError naming the file, the line and what was wrong: a missing column, a short row, a price that is not a
 * positive finite number, a date that does not follow the one before.
 */
export function parsePriceCsv(text: string, file: string, column = 'close'): PriceSeries {
  if (typeof text !== 'string' || text.trim() === '') throw new InputError(file, 'a CSV file with a header and daily rows', 'an empty file');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]!.split(',').map((h) => h.trim().toLowerCase());
  const at = header.indexOf(column), dateAt = header.indexOf('date');
  if (dateAt < 0 || at < 0) throw new InputError(`${file} line 1`, `a header with the columns date and ${column}`, `'${lines[0]}'`);
  const dates: string[] = [], close: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    const where = `${file} line ${i + 1}`;
    if (cells.length < header.length) throw new InputError(where, `${header.length} comma-separated values`, `${cells.length}: '${lines[i]}'`);
    const date = cells[dateAt]!.trim(), price = Number(cells[at]);
    if (!(Number.isFinite(price) && price > 0)) throw new InputError(`${where} ${column}`, 'a positive number', `'${cells[at]}'`);
    if (dates.length > 0 && !(date > dates[dates.length - 1]!)) throw new InputError(`${where} date`, `a date after ${dates[dates.length - 1]}`, `'${date}'`);
    dates.push(date);
    close.push(price);
  }
  if (close.length < 3) throw new InputError(file, 'at least 3 daily rows', `${close.length}`);
  return { file, dates, close: Float64Array.from(close) };
}

export interface Windows {
  n: number;
  x: Float32Array;     // [n, window, 1] normalised returns
  y: Float32Array;     // [n, window, 1] the next day's normalised return at every step
  /** For each window, the index in the series of the day its last input return ends on (its last close known). */
  last: Int32Array;    // [n]
}

export interface PriceTask {
  window: number;
  mean: number;        // of the training days' returns
  std: number;
  split: number;       // the first test day: days before it are the training part (their closes and returns)
  train: Windows;      // every window whose targets all lie before `split`
  test: Windows;       // one window per test day d >= split: the `window` returns up to day d - 1, predicting day d
}

/**
 * Returns, normalised by the training part (the first `trainFraction` of the days), cut into windows of `window` days.
 * Training windows overlap (one per start day); the test has one window per day to forecast, its inputs reaching back
 * into the training part as a forecaster's would, its target never seen in training.
 */
export function priceTask(series: PriceSeries, window: number, trainFraction = 0.8): PriceTask {
  const p = series.close, n = p.length;
  const split = Math.floor(n * trainFraction);
  if (!(Number.isInteger(window) && window >= 1)) throw new InputError('window', 'a positive integer (days per window)', String(window));
  if (split - 1 < window + 1 || n - split < 1) {
    throw new InputError('window', `at most ${split - 2} days (the training part of ${series.file} has ${split} days)`, String(window));
  }
  // r[d] = ln(p[d] / p[d-1]) for d >= 1 (r[0] unused).
  const r = new Float64Array(n);
  for (let d = 1; d < n; d++) r[d] = Math.log(p[d]! / p[d - 1]!);
  let mean = 0;
  for (let d = 1; d < split; d++) mean += r[d]!;
  mean /= split - 1;
  let sq = 0;
  for (let d = 1; d < split; d++) sq += (r[d]! - mean) ** 2;
  const std = Math.sqrt(sq / (split - 2)) || 1;
  const z = (d: number) => (r[d]! - mean) / std;
  // A window ending on day e: inputs r[e-W+1 .. e], targets r[e-W+2 .. e+1].
  const cut = (ends: number[]): Windows => {
    const W = window, x = new Float32Array(ends.length * W), y = new Float32Array(ends.length * W);
    ends.forEach((e, i) => {
      for (let k = 0; k < W; k++) {
        x[i * W + k] = z(e - W + 1 + k);
        y[i * W + k] = z(e - W + 2 + k);
      }
    });
    return { n: ends.length, x, y, last: Int32Array.from(ends) };
  };
  const trainEnds: number[] = [], testEnds: number[] = [];
  for (let e = window; e + 1 < split; e++) trainEnds.push(e);
  for (let d = split; d < n; d++) testEnds.push(d - 1);
  return { window, mean, std, split, train: cut(trainEnds), test: cut(testEnds) };
}

/**
 * Test RMSE in the series' own units (index points) of the closes forecast from each test window's last prediction
 * (ẑ at its last step: p̂ = p_last · exp(ẑ·std + mean)), and of the naive forecast "tomorrow = today" (p̂ = p_last).
 */
export function forecastRmse(task: PriceTask, series: PriceSeries, lastPredictions: ArrayLike<number>): { test_rmse: number; naive_rmse: number } {
  const p = series.close, ends = task.test.last;
  let model = 0, naive = 0;
  for (let i = 0; i < ends.length; i++) {
    const today = p[ends[i]!]!, tomorrow = p[ends[i]! + 1]!;
    const forecast = today * Math.exp(lastPredictions[i]! * task.std + task.mean);
    model += (forecast - tomorrow) ** 2;
    naive += (today - tomorrow) ** 2;
  }
  return { test_rmse: Math.sqrt(model / ends.length), naive_rmse: Math.sqrt(naive / ends.length) };
}
