import { TokenizerError } from '../errors.js';
import { FieldReader, readProtoFields } from './protobuf.js';
import type { PieceType, SentencePieceEntry, SentencePieceSettings } from './types.js';

/**
 * `ModelProto.SentencePiece.Type` numbers (sentencepiece_model.proto); GGUF's
 * `tokenizer.ggml.token_type` numbers its tokens the same way (llama_token_type).
 */
const PIECE_TYPES: Readonly<Record<number, PieceType>> = {
  1: 'normal',
  2: 'unknown',
  3: 'control',
  4: 'user_defined',
  5: 'unused',
  6: 'byte',
};

/** The piece type sentencepiece numbers `n` (1 normal … 6 byte), or undefined for another number. */
export function pieceTypeOfNumber(n: number): PieceType | undefined {
  return Object.hasOwn(PIECE_TYPES, n) ? PIECE_TYPES[n] : undefined;
}

/** `TrainerSpec.ModelType` numbers. */
const MODEL_TYPES: Record<number, string> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' };

/** The NormalizerSpec/TrainerSpec fields' proto2 defaults (sentencepiece_model.proto). */
export const PROTO_DEFAULT_SETTINGS: Readonly<SentencePieceSettings> = {
  addDummyPrefix: true,
  removeExtraWhitespaces: true,
  escapeWhitespaces: true,
  treatWhitespaceAsSuffix: false,
  byteFallback: false,
  unkSurface: ' \u2047 ',
  bosPiece: '<s>',
  eosPiece: '</s>',
  padPiece: '<pad>',
};

export interface ParsedModelProto {
  pieces: SentencePieceEntry[];
  settings: SentencePieceSettings;
}

/**
 * Decodes the fields of a SentencePiece `tokenizer.model` (protobuf `ModelProto`) that encoding and
 * decoding depend on, with the proto2 defaults of absent fields. Refuses what this port does not
 * implement, by name: model types other than BPE, and precompiled normalisation rules (Llama's
 * normaliser is the identity).
 */
export function parseModelProto(buffer: Uint8Array, source: string): ParsedModelProto {
  if (buffer.length === 0) throw new TokenizerError(`${source}: the file is empty; expected a SentencePiece model`);
  const model = new FieldReader(source, 'ModelProto');
  const pieces: SentencePieceEntry[] = [];
  // proto2 defaults (sentencepiece_model.proto).
  let modelType = 1; // UNIGRAM
  const settings: SentencePieceSettings = { ...PROTO_DEFAULT_SETTINGS };
  let charsmapRule: string | undefined;

  for (const field of readProtoFields(buffer, source)) {
    if (field.number === 1) {
      pieces.push(parsePiece(model.message(field), source, field.valueOffset, pieces.length));
    } else if (field.number === 2) {
      const trainer = new FieldReader(source, 'TrainerSpec');
      for (const f of readProtoFields(model.message(field), source, field.valueOffset)) {
        if (f.number === 3) modelType = trainer.varint(f);
        else if (f.number === 24) settings.treatWhitespaceAsSuffix = trainer.bool(f);
        else if (f.number === 35) settings.byteFallback = trainer.bool(f);
        else if (f.number === 44) settings.unkSurface = trainer.string(f);
        else if (f.number === 46) settings.bosPiece = trainer.string(f);
        else if (f.number === 47) settings.eosPiece = trainer.string(f);
        else if (f.number === 48) settings.padPiece = trainer.string(f);
      }
    } else if (field.number === 3 || field.number === 5) {
      const spec = field.number === 3 ? 'normalizer_spec' : 'denormalizer_spec';
      const normalizer = new FieldReader(source, spec);
      let name = '';
      let charsmapBytes = 0;
      for (const f of readProtoFields(model.message(field), source, field.valueOffset)) {
        if (f.number === 1) name = normalizer.string(f);
        else if (f.number === 2) charsmapBytes = normalizer.bytes(f).length;
        else if (field.number === 3 && f.number === 3) settings.addDummyPrefix = normalizer.bool(f);
        else if (field.number === 3 && f.number === 4) settings.removeExtraWhitespaces = normalizer.bool(f);
        else if (field.number === 3 && f.number === 5) settings.escapeWhitespaces = normalizer.bool(f);
      }
      if (charsmapBytes > 0) charsmapRule ??= `${spec}.precompiled_charsmap (rule ${JSON.stringify(name)})`;
    }
  }

  const typeName = MODEL_TYPES[modelType] ?? `unknown (${modelType})`;
  if (modelType !== 2) {
    throw new TokenizerError(
      `${source}: a SentencePiece ${typeName} model (trainer_spec.model_type ${modelType}); only BPE models (model_type 2, as Llama 1 and 2 use) are supported`,
    );
  }
  if (charsmapRule !== undefined) {
    throw new TokenizerError(
      `${source}: the model normalises text with ${charsmapRule}, which is not supported; only the identity normaliser (Llama's) is`,
    );
  }
  if (pieces.length === 0) throw new TokenizerError(`${source}: the SentencePiece model has no pieces`);
  return { pieces, settings };
}

function parsePiece(bytes: Uint8Array, source: string, offset: number, index: number): SentencePieceEntry {
  const reader = new FieldReader(source, `pieces[${index}]`);
  let piece: string | undefined;
  let score = 0;
  let type: PieceType = 'normal';
  for (const f of readProtoFields(bytes, source, offset)) {
    if (f.number === 1) piece = reader.string(f);
    else if (f.number === 2) score = reader.float(f);
    else if (f.number === 3) {
      const known = PIECE_TYPES[reader.varint(f)];
      if (known === undefined) {
        throw new TokenizerError(`${source}: pieces[${index}] has an unknown type ${f.varint} (expected 1..6)`);
      }
      type = known;
    }
  }
  if (piece === undefined || piece === '') {
    throw new TokenizerError(`${source}: pieces[${index}] has no text (a piece must not be empty)`);
  }
  return { piece, score, type };
}
