// --task prices: the CSV parser on malformed files, the windows and the normalisation against hand-worked values, the
// RMSE against its definition, and a tiny training run on a series with a pattern to learn, where the model must beat
// the naive forecast "tomorrow = today" by far. (On the S&P 500 itself no model need beat it: BENCHMARKS.md.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forecastRmse, parsePriceCsv, priceTask } from '../src/data/prices.js';
import { readPrices, sp500File, trainPrices } from '../src/node/task-prices.js';
import { parseTrainArgs, type TrainArgs } from '../src/node/train.js';
import { testDevice, thrownInput } from './helpers.js';

const device = await testDevice();

function csv(closes: number[]): string {
  const day = (d: number) => new Date(Date.UTC(2000, 0, 1) + d * 86400000).toISOString().slice(0, 10);
  return ['date,open,close', ...closes.map((c, d) => `${day(d)},0,${c}`)].join('\n');
}

describe('prices: the data', () => {
  it('parses the installed S&P 500 file: 5105 days, 2000-01-03 to 2020-04-17', () => {
    const s = readPrices(sp500File());
    expect(s.close.length).toBe(5105);
    expect([s.dates[0], s.dates.at(-1)]).toEqual(['2000-01-03', '2020-04-17']);
    expect(s.close[0]).toBeCloseTo(1455.219971, 6);
  });

  it('names the file, the line and the fault of a malformed CSV', () => {
    expect(thrownInput(() => parsePriceCsv('', 'a.csv')).message).toBe('a.csv: expected a CSV file with a header and daily rows, got an empty file');
    expect(thrownInput(() => parsePriceCsv('date,price\n2000-01-01,1', 'b.csv')).field).toBe('b.csv line 1');
    expect(thrownInput(() => parsePriceCsv('date,close\n2000-01-01,1\n2000-01-02', 'c.csv')).message).toMatch(/^c\.csv line 3: expected 2 comma-separated values, got 1/);
    expect(thrownInput(() => parsePriceCsv('date,close\n2000-01-01,1\n2000-01-02,abc', 'd.csv')).message).toBe("d.csv line 3 close: expected a positive number, got 'abc'");
    expect(thrownInput(() => parsePriceCsv('date,close\n2000-01-01,1\n2000-01-02,-3', 'e.csv')).field).toBe('e.csv line 3 close');
    expect(thrownInput(() => parsePriceCsv('date,close\n2000-01-02,1\n2000-01-01,2\n2000-01-03,2', 'f.csv')).message).toBe("f.csv line 3 date: expected a date after 2000-01-02, got '2000-01-01'");
    expect(thrownInput(() => readPrices('/nonexistent/prices.csv')).message).toMatch(/^\/nonexistent\/prices\.csv: expected a readable CSV file of daily closes, got ENOENT/);
  });

  it('windows of normalised log returns, the next day at every step; test windows forecast the days after the split', () => {
    const closes = Array.from({ length: 20 }, (_, d) => 100 * Math.exp(0.01 * d + 0.02 * Math.sin(d)));
    const series = parsePriceCsv(csv(closes), 'x.csv');
    const t = priceTask(series, 3);
    const r = (d: number) => Math.log(closes[d]! / closes[d - 1]!);
    expect(t.split).toBe(16);
    const train = Array.from({ length: 15 }, (_, k) => r(k + 1));
    const mean = train.reduce((a, b) => a + b) / 15;
    const std = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / 14);
    expect(t.mean).toBeCloseTo(mean, 14);
    expect(t.std).toBeCloseTo(std, 14);
    // Training windows end on days 3 .. 14 (their last target, day 15, is the last training day).
    expect(Array.from(t.train.last)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(t.train.x[0]).toBeCloseTo((r(1) - mean) / std, 6);
    expect(t.train.y[2]).toBeCloseTo((r(4) - mean) / std, 6);
    // One test window per day 16 .. 19, ending the day before.
    expect(Array.from(t.test.last)).toEqual([15, 16, 17, 18]);
    expect(t.test.y[3 * 3 + 2]).toBeCloseTo((r(19) - mean) / std, 6);
    expect(priceTask(series, 14).train.n).toBe(1); // the longest window the 16 training days allow
    expect(thrownInput(() => priceTask(series, 15)).message).toBe('window: expected at most 14 days (the training part of x.csv has 16 days), got 15');
  });

  it('RMSE in the series units; a model that forecasts no change is the naive forecast', () => {
    const closes = [100, 101, 99, 102, 104, 103, 105, 104, 106, 108];
    const series = parsePriceCsv(csv(closes), 'y.csv');
    const t = priceTask(series, 2, 0.6);
    const noChange = Array.from({ length: t.test.n }, () => -t.mean / t.std);
    const { test_rmse, naive_rmse } = forecastRmse(t, series, noChange);
    const days = [6, 7, 8, 9];
    expect(naive_rmse).toBeCloseTo(Math.sqrt(days.reduce((a, d) => a + (closes[d]! - closes[d - 1]!) ** 2, 0) / 4), 12);
    expect(test_rmse).toBeCloseTo(naive_rmse, 10);
  });

  it('--task prices and its flags; the MNIST-only ones refused with it', () => {
    expect(parseTrainArgs(['--task', 'prices', '--window', '20', '--data', 'p.csv'])).toMatchObject({ task: 'prices', window: 20, data: 'p.csv' });
    expect(parseTrainArgs(['--task', 'mnist'])).not.toHaveProperty('task');
    expect(() => parseTrainArgs(['--task', 'weather'])).toThrow('--task expects mnist, prices, spam, digits or chars, got weather');
    expect(() => parseTrainArgs(['--window', '20'])).toThrow('--window is for --task prices, spam or chars');
    expect(() => parseTrainArgs(['--task', 'prices', '--resume', 'x'])).toThrow('--resume is for the MNIST task for now');
  });
});

describe.skipIf(!device)('prices: training', () => {
  it('learns a series with a pattern: the loss falls and the forecast beats "tomorrow = today" by far', async () => {
    const closes: number[] = [100];
    for (let d = 1; d < 400; d++) closes.push(closes[d - 1]! * Math.exp(0.02 * Math.sin(0.9 * d)));
    const file = join(mkdtempSync(join(tmpdir(), 'prices-')), 'wave.csv');
    writeFileSync(file, csv(closes));
    const args = { ...(parseTrainArgs(['--task', 'prices', '--window', '12', '--units', '16', '--batch', '32', '--epochs', '15', '--lr', '0.01', '--data', file]) as TrainArgs) };
    const lines: string[] = [];
    const { code, json } = await trainPrices(device!, args, (l) => lines.push(l));
    console.info(lines.at(-1));
    expect(code).toBe(0);
    expect(json.task).toBe('prices');
    expect(json.test_rmse as number).toBeLessThan(0.3 * (json.naive_rmse as number));
    expect(json.test_loss as number).toBeLessThan(0.1); // normalised returns: predicting their mean gives about 1
  }, 120_000);
});
