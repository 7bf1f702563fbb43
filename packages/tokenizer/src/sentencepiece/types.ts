/** `ModelProto.SentencePiece.Type`: how a piece takes part in encoding and decoding. */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user_defined' | 'unused' | 'byte';

/** One vocabulary entry; its id is its index. */
export interface SentencePieceEntry {
  /** The piece's text, with `▁` (U+2581) for a space; byte pieces are spelled `<0x0A>`. */
  piece: string;
  /** Merge priority: of two possible merges the one whose result scores higher goes first. */
  score: number;
  type: PieceType;
}

/**
 * What a SentencePiece model's normaliser and trainer specs say about encoding and decoding; the
 * defaults are the protobuf's (`sentencepiece_model.proto`), which Llama 2's file overrides only in
 * `removeExtraWhitespaces: false` and `byteFallback: true`.
 */
export interface SentencePieceSettings {
  /** Prepend `▁` to non-empty text (normalizer_spec.add_dummy_prefix, default true). */
  addDummyPrefix: boolean;
  /** Drop leading and trailing spaces and collapse runs (normalizer_spec.remove_extra_whitespaces, default true). */
  removeExtraWhitespaces: boolean;
  /** Spell spaces as `▁` (normalizer_spec.escape_whitespaces, default true). */
  escapeWhitespaces: boolean;
  /** The dummy `▁` goes after the text instead (trainer_spec.treat_whitespace_as_suffix, default false). */
  treatWhitespaceAsSuffix: boolean;
  /** Characters outside the vocabulary become byte pieces `<0xNN>` instead of `<unk>` (trainer_spec.byte_fallback). */
  byteFallback: boolean;
  /** What `<unk>` decodes to (trainer_spec.unk_surface, default " ⁇ "). */
  unkSurface: string;
  /** The pieces whose ids are bosId, eosId and padId when they are control pieces (else -1). */
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
}
