import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { HF_CONFIG_FILE } from './folder/layout.js';
import { readRegularText } from './regular-file.js';

/**
 * The fields of a Hugging Face `config.json` (transformers' `LlamaConfig`) that a Llama 3 forward
 * pass needs, checked and typed. Optional fields keep transformers' meaning when absent
 * (for example `num_key_value_heads` → `num_attention_heads`); this module does not fill them in.
 */
export interface HFLlamaConfig {
  model_type: 'llama';
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  vocab_size: number;
  intermediate_size: number;
  rms_norm_eps: number;
  rope_theta?: number;
  rope_scaling?: HFLlama3RopeScaling;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  /** `torch_dtype` (or `dtype`, its name since transformers 4.56), e.g. "bfloat16". */
  torch_dtype?: string;
  head_dim?: number;
}

/** Llama 3.1+ RoPE scaling (spec §4.8); older configs spell `rope_type` as `type`. */
export interface HFLlama3RopeScaling {
  rope_type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

/** Reads and validates `<dir>/config.json`. */
export async function readHFConfig(dir: string): Promise<HFLlamaConfig> {
  const path = join(dir, HF_CONFIG_FILE);
  let text: string;
  try {
    text = await readRegularText(path, 'Hugging Face config');
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(`${path}: cannot read the Hugging Face config (${errorText(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelError(`${path}: not valid JSON (${errorText(error)})`);
  }
  return parseHFConfig(json, path);
}

/**
 * Validates a parsed `config.json`. `source` names the file in error messages. JSON `null` counts as
 * absent for optional fields, as transformers writes `"rope_scaling": null` and `"head_dim": null`.
 */
export function parseHFConfig(json: unknown, source: string): HFLlamaConfig {
  if (!isPlainObject(json)) {
    throw new ModelError(`${source}: expected a JSON object (a Hugging Face config), got ${describe(json)}`);
  }
  const fields = new ConfigFields(json, source);

  const modelType = json.model_type;
  if (modelType !== 'llama') {
    throw new ModelError(
      `${source}: field "model_type" is ${describe(modelType)}; only "llama" checkpoints (LlamaForCausalLM) are supported`,
    );
  }
  rejectUnsupportedArchitecture(fields);

  const config: HFLlamaConfig = {
    model_type: 'llama',
    hidden_size: fields.positiveInteger('hidden_size'),
    num_hidden_layers: fields.positiveInteger('num_hidden_layers'),
    num_attention_heads: fields.positiveInteger('num_attention_heads'),
    vocab_size: fields.positiveInteger('vocab_size'),
    intermediate_size: fields.positiveInteger('intermediate_size'),
    rms_norm_eps: fields.positiveNumber('rms_norm_eps'),
  };
  assignDefined(
    config,
    'num_key_value_heads',
    fields.optional('num_key_value_heads', () => fields.positiveInteger('num_key_value_heads')),
  );
  assignDefined(
    config,
    'rope_theta',
    fields.optional('rope_theta', () => fields.positiveNumber('rope_theta')),
  );
  assignDefined(
    config,
    'rope_scaling',
    fields.optional('rope_scaling', () => parseRopeScaling(json.rope_scaling, source)),
  );
  assignDefined(
    config,
    'max_position_embeddings',
    fields.optional('max_position_embeddings', () => fields.positiveInteger('max_position_embeddings')),
  );
  assignDefined(
    config,
    'tie_word_embeddings',
    fields.optional('tie_word_embeddings', () => fields.boolean('tie_word_embeddings')),
  );
  const dtypeField = fields.isPresent('torch_dtype') ? 'torch_dtype' : 'dtype';
  assignDefined(
    config,
    'torch_dtype',
    fields.optional(dtypeField, () => fields.string(dtypeField)),
  );
  assignDefined(
    config,
    'head_dim',
    fields.optional('head_dim', () => fields.positiveInteger('head_dim')),
  );

  checkHeadCounts(config, source);
  return config;
}

/** Llama variants that transformers accepts under model_type "llama" but this port does not implement. */
function rejectUnsupportedArchitecture(fields: ConfigFields): void {
  for (const biasField of ['attention_bias', 'mlp_bias']) {
    const hasBias = fields.optional(biasField, () => fields.boolean(biasField));
    if (hasBias) fields.fail(biasField, 'is true; Llama 3 has no biases and this loader does not support them');
  }
  const activation = fields.optional('hidden_act', () => fields.string('hidden_act'));
  if (activation !== undefined && activation !== 'silu') {
    fields.fail('hidden_act', `is ${JSON.stringify(activation)}; expected "silu"`);
  }
}

function parseRopeScaling(value: unknown, source: string): HFLlama3RopeScaling {
  if (!isPlainObject(value)) {
    throw new ModelError(`${source}: field "rope_scaling" is ${describe(value)}; expected an object or null`);
  }
  const fields = new ConfigFields(value, source, 'rope_scaling.');
  const typeField = fields.isPresent('rope_type') ? 'rope_type' : 'type';
  const ropeType = fields.string(typeField);
  if (ropeType !== 'llama3') {
    fields.fail(
      typeField,
      `is ${JSON.stringify(ropeType)}; only "llama3" RoPE scaling (Llama 3.1+) is supported (or "rope_scaling": null)`,
    );
  }
  const scaling: HFLlama3RopeScaling = {
    rope_type: 'llama3',
    factor: fields.positiveNumber('factor'),
    low_freq_factor: fields.positiveNumber('low_freq_factor'),
    high_freq_factor: fields.positiveNumber('high_freq_factor'),
    original_max_position_embeddings: fields.positiveInteger('original_max_position_embeddings'),
  };
  // The smoothing step divides by (high − low); transformers only warns, but the result is garbage.
  if (scaling.high_freq_factor <= scaling.low_freq_factor) {
    fields.fail(
      'high_freq_factor',
      `(${scaling.high_freq_factor}) must be greater than rope_scaling.low_freq_factor (${scaling.low_freq_factor})`,
    );
  }
  return scaling;
}

function checkHeadCounts(config: HFLlamaConfig, source: string): void {
  const kvHeads = config.num_key_value_heads ?? config.num_attention_heads;
  if (config.num_attention_heads % kvHeads !== 0) {
    throw new ModelError(
      `${source}: field "num_key_value_heads" (${kvHeads}) must divide "num_attention_heads" (${config.num_attention_heads})`,
    );
  }
  const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  if (config.head_dim === undefined && !Number.isInteger(headDim)) {
    throw new ModelError(
      `${source}: field "num_attention_heads" (${config.num_attention_heads}) must divide "hidden_size" (${config.hidden_size}) when "head_dim" is absent`,
    );
  }
  if (headDim % 2 !== 0) {
    throw new ModelError(`${source}: the head dimension (${headDim}) must be even for RoPE`);
  }
}

/** Typed access to one JSON object's fields, with errors that name the file and the field. */
class ConfigFields {
  constructor(
    private readonly object: Record<string, unknown>,
    private readonly source: string,
    private readonly prefix = '',
  ) {}

  isPresent(field: string): boolean {
    const value = this.object[field];
    return value !== undefined && value !== null;
  }

  /** Runs `parse` when the field is present and not null; otherwise undefined. */
  optional<T>(field: string, parse: () => T): T | undefined {
    return this.isPresent(field) ? parse() : undefined;
  }

  positiveInteger(field: string): number {
    const value = this.required(field, 'a positive integer');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      this.fail(field, `is ${describe(value)}; expected a positive integer`);
    }
    return value;
  }

  positiveNumber(field: string): number {
    const value = this.required(field, 'a positive number');
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      this.fail(field, `is ${describe(value)}; expected a positive number`);
    }
    return value;
  }

  boolean(field: string): boolean {
    const value = this.required(field, 'true or false');
    if (typeof value !== 'boolean') this.fail(field, `is ${describe(value)}; expected true or false`);
    return value;
  }

  string(field: string): string {
    const value = this.required(field, 'a string');
    if (typeof value !== 'string') this.fail(field, `is ${describe(value)}; expected a string`);
    return value;
  }

  fail(field: string, problem: string): never {
    throw new ModelError(`${this.source}: field "${this.prefix}${field}" ${problem}`);
  }

  private required(field: string, expected: string): unknown {
    if (!this.isPresent(field)) this.fail(field, `is missing; expected ${expected}`);
    return this.object[field];
  }
}

function assignDefined<K extends keyof HFLlamaConfig>(
  config: HFLlamaConfig,
  key: K,
  value: HFLlamaConfig[K] | undefined,
) {
  if (value !== undefined) config[key] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${JSON.stringify(value)} (${typeof value})`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
