import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CSV_HEADER, LossLog, type LossRecord, lossCurveSVG, niceTicks } from '../src/metrics.js';

/**
 * A small XML well-formedness check: one root element, every tag closed in order, attributes
 * quoted and unique, no stray `<` or `&` in text. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<\?xml[^>]*\?>/g;
  let at = 0;
  let roots = 0;
  const checkText = (text: string) => {
    if (/[<>]/.test(text)) throw new Error(`stray angle bracket in text ${JSON.stringify(text)}`);
    const amp = text.match(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
    if (amp) throw new Error(`unescaped & in text ${JSON.stringify(text)}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(text)}`);
  };
  for (let m = token.exec(xml); m !== null; m = token.exec(xml)) {
    checkText(xml.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[0].startsWith('<?xml')) continue;
    const [, closing, name, attrs = '', selfClosing] = m;
    if (closing) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
      continue;
    }
    const seen = new Set<string>();
    for (const a of attrs.matchAll(/([\w:-]+)="/g)) {
      if (seen.has(a[1] as string)) throw new Error(`attribute ${a[1]} repeated on <${name}>`);
      seen.add(a[1] as string);
    }
    if (stack.length === 0 && ++roots > 1) throw new Error('more than one root element');
    names.push(name as string);
    if (!selfClosing) stack.push(name as string);
  }
  checkText(xml.slice(at));
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error('no root element');
  return names;
}

function sampleLog(): LossLog {
  const log = new LossLog();
  for (let step = 0; step <= 300; step += 10) {
    const record: LossRecord = {
      step,
      trainLoss: 4.2 * Math.exp(-step / 80) + 1.6 + 0.01 * Math.sin(step),
      lr: 1e-3 * (1 - step / 600),
      tokensPerSecond: 1234.5 + step / 3,
    };
    if (step % 50 === 0) record.valLoss = record.trainLoss + 0.07;
    log.append(record);
  }
  return log;
}

const dir = await mkdtemp(join(tmpdir(), 'llama-ts-metrics-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('LossLog', () => {
  it('appends records with increasing steps only and refuses NaN', () => {
    const log = new LossLog([{ step: 0, trainLoss: 4, lr: 1e-3, tokensPerSecond: 10 }]);
    expect(() => log.append({ step: 0, trainLoss: 3, lr: 1e-3, tokensPerSecond: 10 })).toThrow(/does not follow/);
    expect(() => log.append({ step: 1, trainLoss: Number.NaN, lr: 1e-3, tokensPerSecond: 10 })).toThrow(/trainLoss/);
    expect(log.length).toBe(1);
  });

  it('CSV round-trips exactly, empty val_loss where not evaluated', async () => {
    const log = sampleLog();
    log.append({ step: 301, trainLoss: Number.POSITIVE_INFINITY, lr: 1 / 3, tokensPerSecond: 0 });
    const csv = log.toCSV();
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines[2]).toMatch(/^10,[\d.]+,,[\d.e-]+,[\d.]+$/);
    expect(LossLog.fromCSV(csv).records).toEqual(log.records);
    const path = join(dir, 'nested', 'loss.csv');
    await log.writeCSV(path);
    expect(LossLog.fromCSV(await readFile(path, 'utf8')).toJSON()).toEqual(log.toJSON());
    expect(() => LossLog.fromCSV('step,loss\n1,2\n')).toThrow(/first line/);
  });

  it('JSON round-trips and truncates for resuming', () => {
    const log = sampleLog();
    expect(LossLog.fromJSON(JSON.parse(JSON.stringify(log))).records).toEqual(log.records);
    expect(log.truncatedAfter(100).records.at(-1)?.step).toBe(100);
  });
});

describe('loss curve SVG', () => {
  it('is well-formed, with axes, ticks, two polylines and a legend', async () => {
    const log = sampleLog();
    const svg = log.toSVG({ title: 'Tiny Shakespeare <default> & co' });
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(names.filter((n) => n === 'polyline').length).toBe(2);
    expect(svg).toContain('train loss');
    expect(svg).toContain('val loss');
    expect(svg).toContain('&lt;default&gt; &amp; co');
    const polylines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map(
      (m) => (m[1] as string).split(' ').length,
    );
    expect(polylines).toEqual([31, 7]);
    for (const m of svg.matchAll(/points="([^"]*)"/g)) {
      for (const pair of (m[1] as string).split(' ')) {
        const [x, y] = pair.split(',').map(Number);
        expect(x).toBeGreaterThanOrEqual(64);
        expect(x).toBeLessThanOrEqual(776);
        expect(y).toBeGreaterThanOrEqual(40);
        expect(y).toBeLessThanOrEqual(428);
      }
    }
    const path = join(dir, 'loss.svg');
    await log.writeSVG(path, { title: 'Tiny Shakespeare <default> & co' });
    expect(await readFile(path, 'utf8')).toBe(svg);
  });

  it('copes with an empty log, one record and non-finite losses', () => {
    checkXml(lossCurveSVG([]));
    checkXml(lossCurveSVG([{ step: 0, trainLoss: 4.2, lr: 1e-3, tokensPerSecond: 1 }]));
    const svg = lossCurveSVG([
      { step: 0, trainLoss: 4.2, lr: 1e-3, tokensPerSecond: 1 },
      { step: 1, trainLoss: Number.POSITIVE_INFINITY, lr: 1e-3, tokensPerSecond: 1 },
      { step: 2, trainLoss: 3.9, valLoss: 4, lr: 1e-3, tokensPerSecond: 1 },
    ]);
    checkXml(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('the checker itself catches broken XML', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => checkXml('<svg x="1" x="2"></svg>')).toThrow();
  });
});

describe('niceTicks', () => {
  it('gives round steps covering the range', () => {
    expect(niceTicks(0, 1200)).toEqual([0, 250, 500, 750, 1000]);
    expect(niceTicks(0, 1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(1.43, 4.31)).toEqual([2, 3, 4]);
    expect(niceTicks(1.43, 2.31)).toEqual([1.6, 1.8, 2, 2.2]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });
});
