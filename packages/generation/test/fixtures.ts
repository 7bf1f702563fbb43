import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Backend,
  type CheckpointOptions,
  type GGUFMetadataToWrite,
  GGUFValueType,
  ggufValue,
  loadModel,
  openCheckpoint,
  writeLlamaGGUF,
  writePthCheckpoint,
} from '@llama-ts/model';
import {
  goldenDir,
  goldenExpected,
  llama3TokenizerPath,
  sentencePieceTokenizerPath,
  writeRandomLlama2Checkpoint,
  writeRandomLlama3Checkpoint,
} from '@llama-ts/test-support';
import { byteLevelVocabularyFromRanks, type PieceType } from '@llama-ts/tokenizer';
import { loadSentencePieceTokenizer } from '@llama-ts/tokenizer/node';
import { idTokenizer, Llama } from '../src/index.js';

export const golden = goldenExpected('tiny-meta-bf16');

export async function goldenLlama(
  backend: Backend,
  options: { stopTokens?: number[]; maxSeqLen?: number; maxBatchSize?: number } = {},
): Promise<Llama> {
  const model = await loadModel(goldenDir('tiny-meta-bf16'), {
    backend,
    maxSeqLen: options.maxSeqLen ?? 64,
    maxBatchSize: options.maxBatchSize ?? 4,
  });
  return new Llama(model, idTokenizer(model.args.vocabSize, options.stopTokens));
}

/** test-support's random Llama 3-vocabulary checkpoint, written with @llama-ts/model's .pth writer. */
export function randomLlama3Checkpoint(): Promise<string> {
  return writeRandomLlama3Checkpoint(writePthCheckpoint);
}

export const LLAMA3_TOKENIZER = llama3TokenizerPath();

export const SENTENCEPIECE_TOKENIZER = sentencePieceTokenizerPath();

/** test-support's random Llama 2-layout checkpoint (seed 3) with the SentencePiece tokenizer beside it. */
export function randomLlama2Checkpoint(): Promise<string> {
  return writeRandomLlama2Checkpoint(writePthCheckpoint, { seed: 3 });
}

/** Meta-Llama-3-8B-Instruct's tokenizer.chat_template. */
export const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/** Llama-2-7b-chat-hf's tokenizer.chat_template (tokenizer_config.json; `\\n` is Jinja's escape). */
export const LLAMA2_CHAT_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/** Mistral-7B-Instruct-v0.1's template: [INST] without Llama 2's <<SYS>>, not Llama 2's format. */
export const MISTRAL_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

/** Llama-3.1-8B-Instruct's (and 70B's) tokenizer.chat_template, with its tool-calling branches. */
export const LLAMA31_CHAT_TEMPLATE = `{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
`;

let vocabulary: ReturnType<typeof byteLevelVocabularyFromRanks> | undefined;

/** Llama 3's vocabulary as a GGUF stores it (tokenizer.ggml.*), built from tokenizer.model. */
export function llama3TokenizerMetadata(overrides: GGUFMetadataToWrite = {}): GGUFMetadataToWrite {
  vocabulary ??= byteLevelVocabularyFromRanks(readFileSync(LLAMA3_TOKENIZER, 'utf8'), LLAMA3_TOKENIZER);
  return {
    'tokenizer.ggml.model': ggufValue.string('gpt2'),
    'tokenizer.ggml.pre': ggufValue.string('llama-bpe'),
    'tokenizer.ggml.tokens': ggufValue.array(GGUFValueType.STRING, vocabulary.tokens),
    'tokenizer.ggml.token_type': ggufValue.array(GGUFValueType.INT32, vocabulary.tokenTypes),
    'tokenizer.ggml.merges': ggufValue.array(GGUFValueType.STRING, vocabulary.merges),
    'tokenizer.ggml.bos_token_id': ggufValue.u32(128000),
    'tokenizer.ggml.eos_token_id': ggufValue.u32(128009),
    'tokenizer.ggml.add_bos_token': ggufValue.bool(true),
    'tokenizer.chat_template': ggufValue.string(LLAMA3_CHAT_TEMPLATE),
    ...overrides,
  };
}

/** sentencepiece's piece type numbers, which GGUF's tokenizer.ggml.token_type uses. */
const PIECE_TYPE_NUMBERS: Readonly<Record<PieceType, number>> = {
  normal: 1,
  unknown: 2,
  control: 3,
  user_defined: 4,
  unused: 5,
  byte: 6,
};

/**
 * A SentencePiece vocabulary (../shared's, Llama 2's format) as llama.cpp's converter writes it
 * into a GGUF (tokenizer.ggml.*: every piece, score and type), read from the `tokenizer.model`.
 */
export async function sentencePieceTokenizerMetadata(
  overrides: GGUFMetadataToWrite = {},
): Promise<GGUFMetadataToWrite> {
  const model = await loadSentencePieceTokenizer(SENTENCEPIECE_TOKENIZER);
  const ids = Array.from({ length: model.nWords }, (_, id) => id);
  return {
    'tokenizer.ggml.model': ggufValue.string('llama'),
    'tokenizer.ggml.tokens': ggufValue.array(
      GGUFValueType.STRING,
      ids.map((id) => model.idToPiece(id)),
    ),
    'tokenizer.ggml.scores': ggufValue.array(
      GGUFValueType.FLOAT32,
      ids.map((id) => model.pieceScore(id)),
    ),
    'tokenizer.ggml.token_type': ggufValue.array(
      GGUFValueType.INT32,
      ids.map((id) => PIECE_TYPE_NUMBERS[model.pieceType(id)]),
    ),
    'tokenizer.ggml.bos_token_id': ggufValue.u32(model.bosId),
    'tokenizer.ggml.eos_token_id': ggufValue.u32(model.eosId),
    'tokenizer.ggml.unknown_token_id': ggufValue.u32(model.unkId),
    'tokenizer.ggml.add_bos_token': ggufValue.bool(true),
    'tokenizer.ggml.add_eos_token': ggufValue.bool(false),
    'tokenizer.chat_template': ggufValue.string(LLAMA2_CHAT_TEMPLATE),
    ...overrides,
  };
}

/**
 * A Meta checkpoint folder rewritten as a GGUF file with `metadata` (a tokenizer's, say); `sizes`
 * for a Llama 2 folder, whose params.json leaves the vocabulary size to the tokenizer.
 */
export async function ggufFromCheckpoint(
  dir: string,
  metadata: GGUFMetadataToWrite,
  type: 'F32' | 'Q8_0' = 'F32',
  sizes: CheckpointOptions = {},
): Promise<string> {
  const { args, reader } = await openCheckpoint(dir, sizes);
  const tensors = [];
  for (const tensor of reader.tensors) {
    const bytes = (await tensor.read()).slice();
    tensors.push({ name: tensor.name, shape: tensor.shape, values: new Float32Array(bytes.buffer) });
  }
  await reader.close();
  const path = join(await mkdtemp(join(tmpdir(), 'llama-ts-gguf-')), 'model.gguf');
  await writeLlamaGGUF(path, {
    params: { ...args, contextLength: 8192 },
    tensors,
    type,
    metadata,
  });
  return path;
}
