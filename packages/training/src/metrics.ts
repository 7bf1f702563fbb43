/** The loss log of a training run: records, CSV (write and read back) and an SVG loss curve. */

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TrainingError } from './errors.js';

export interface LossRecord {
  step: number;
  trainLoss: number;
  /** Present on evaluation steps. */
  valLoss?: number;
  lr: number;
  tokensPerSecond: number;
}

export const CSV_HEADER = 'step,train_loss,val_loss,lr,tokens_per_second';

function checkRecord(record: LossRecord, what: string): LossRecord {
  const { step, trainLoss, valLoss, lr, tokensPerSecond } = record;
  if (!Number.isInteger(step) || step < 0)
    throw new TrainingError(`${what}: step must be an integer >= 0, got ${step}`);
  const numbers: [string, number | undefined][] = [
    ['trainLoss', trainLoss],
    ['valLoss', valLoss],
    ['lr', lr],
    ['tokensPerSecond', tokensPerSecond],
  ];
  for (const [name, value] of numbers) {
    if (name === 'valLoss' && value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new TrainingError(`${what}: ${name} must be a number, got ${String(value)}`);
    }
  }
  return valLoss === undefined
    ? { step, trainLoss, lr, tokensPerSecond }
    : { step, trainLoss, valLoss, lr, tokensPerSecond };
}

export class LossLog {
  readonly #records: LossRecord[] = [];

  constructor(records: Iterable<LossRecord> = []) {
    for (const record of records) this.append(record);
  }

  get records(): readonly LossRecord[] {
    return this.#records;
  }

  get length(): number {
    return this.#records.length;
  }

  /** Adds a record; steps must increase. (A loss may be ±Infinity when a run diverges; NaN is refused.) */
  append(record: LossRecord): void {
    const checked = checkRecord(record, `LossLog.append (record ${this.#records.length})`);
    const last = this.#records.at(-1);
    if (last && checked.step <= last.step) {
      throw new TrainingError(`LossLog.append: step ${checked.step} does not follow step ${last.step}`);
    }
    this.#records.push(checked);
  }

  /** The records up to and including `step` (for resuming from a checkpoint written at `step`). */
  truncatedAfter(step: number): LossLog {
    return new LossLog(this.#records.filter((record) => record.step <= step));
  }

  toJSON(): LossRecord[] {
    return this.#records.map((record) => ({ ...record }));
  }

  static fromJSON(json: unknown): LossLog {
    if (!Array.isArray(json)) throw new TrainingError('LossLog.fromJSON: expected an array of records');
    return new LossLog(json as LossRecord[]);
  }

  /** `step,train_loss,val_loss,lr,tokens_per_second`, val_loss empty when not evaluated. Numbers round-trip exactly. */
  toCSV(): string {
    const lines = [CSV_HEADER];
    for (const r of this.#records) {
      lines.push([r.step, r.trainLoss, r.valLoss ?? '', r.lr, r.tokensPerSecond].map(String).join(','));
    }
    return `${lines.join('\n')}\n`;
  }

  static fromCSV(text: string): LossLog {
    const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
    if (lines[0] !== CSV_HEADER) {
      throw new TrainingError(
        `loss CSV: the first line must be "${CSV_HEADER}", got ${JSON.stringify(lines[0] ?? '')}`,
      );
    }
    const log = new LossLog();
    lines.slice(1).forEach((line, index) => {
      const cells = line.split(',');
      if (cells.length !== 5)
        throw new TrainingError(`loss CSV line ${index + 2}: expected 5 fields, got ${cells.length}`);
      const [step, trainLoss, valLoss, lr, tokensPerSecond] = cells.map((cell) =>
        cell === '' ? undefined : Number(cell),
      );
      const record: LossRecord = {
        step: step as number,
        trainLoss: trainLoss as number,
        lr: lr as number,
        tokensPerSecond: tokensPerSecond as number,
      };
      if (valLoss !== undefined) record.valLoss = valLoss;
      log.append(record);
    });
    return log;
  }

  async writeCSV(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.toCSV());
  }

  toSVG(options: LossCurveOptions = {}): string {
    return lossCurveSVG(this.#records, options);
  }

  async writeSVG(path: string, options: LossCurveOptions = {}): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.toSVG(options));
  }
}

export interface LossCurveOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** Round numbers for an axis from lo to hi: about `count` ticks at 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi <= lo) return [lo];
  const rough = (hi - lo) / Math.max(1, count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (value: number): string => String(Number(value.toFixed(2)));

/**
 * The loss curve as a standalone SVG: train loss (every record) and val loss (evaluated records)
 * against step, with axes, ticks, grid lines and a legend. Non-finite losses are left out.
 */
export function lossCurveSVG(records: readonly LossRecord[], options: LossCurveOptions = {}): string {
  const width = options.width ?? 800;
  const height = options.height ?? 480;
  const title = options.title ?? 'Loss';
  const margin = { left: 64, right: 24, top: 40, bottom: 52 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const train = records.filter((r) => Number.isFinite(r.trainLoss)).map((r) => [r.step, r.trainLoss] as const);
  const val = records
    .filter((r) => r.valLoss !== undefined && Number.isFinite(r.valLoss))
    .map((r) => [r.step, r.valLoss as number] as const);
  const points = [...train, ...val];
  const steps = points.map(([step]) => step);
  const losses = points.map(([, loss]) => loss);
  const xMin = 0;
  const xMax = Math.max(1, ...steps);
  let yMin = losses.length > 0 ? Math.min(...losses) : 0;
  let yMax = losses.length > 0 ? Math.max(...losses) : 1;
  if (yMax - yMin < 1e-6) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pad = (yMax - yMin) * 0.05;
  yMin = Math.max(0, yMin - pad);
  yMax += pad;
  const x = (step: number) => margin.left + ((step - xMin) / (xMax - xMin)) * plotW;
  const y = (loss: number) => margin.top + (1 - (loss - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="${width / 2}" y="${margin.top / 2 + 6}" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
  );
  const bottom = margin.top + plotH;
  const right = margin.left + plotW;
  out.push('<g stroke="#ddd" stroke-width="1">');
  const xTicks = niceTicks(xMin, xMax).filter((t) => t >= xMin && t <= xMax);
  const yTicks = niceTicks(yMin, yMax).filter((t) => t >= yMin && t <= yMax);
  for (const t of xTicks) out.push(`<line x1="${fmt(x(t))}" y1="${margin.top}" x2="${fmt(x(t))}" y2="${bottom}"/>`);
  for (const t of yTicks) out.push(`<line x1="${margin.left}" y1="${fmt(y(t))}" x2="${right}" y2="${fmt(y(t))}"/>`);
  out.push('</g>');
  out.push(
    `<g stroke="black" stroke-width="1"><line x1="${margin.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>` +
      `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${bottom}"/></g>`,
  );
  out.push('<g text-anchor="middle">');
  for (const t of xTicks) out.push(`<text x="${fmt(x(t))}" y="${bottom + 18}">${t}</text>`);
  out.push('</g>');
  out.push('<g text-anchor="end">');
  for (const t of yTicks) out.push(`<text x="${margin.left - 6}" y="${fmt(y(t) + 4)}">${t}</text>`);
  out.push('</g>');
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">step</text>`);
  out.push(
    `<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotH / 2})">loss</text>`,
  );
  const series = [
    { name: 'train', color: '#1f77b4', data: train },
    { name: 'val', color: '#ff7f0e', data: val },
  ];
  for (const { name, color, data } of series) {
    if (data.length === 0) continue;
    const coords = data.map(([step, loss]) => `${fmt(x(step))},${fmt(y(loss))}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${coords}"><title>${name}</title></polyline>`,
    );
  }
  out.push(`<g transform="translate(${right - 110} ${margin.top + 10})">`);
  out.push('<rect x="0" y="0" width="100" height="44" fill="white" stroke="#999"/>');
  series.forEach(({ name, color }, i) => {
    const rowY = 15 + i * 18;
    out.push(`<line x1="8" y1="${rowY}" x2="32" y2="${rowY}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="40" y="${rowY + 4}">${name} loss</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
