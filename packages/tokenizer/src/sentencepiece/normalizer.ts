import { codePointLength, type PrefixMatcher } from './prefix-matcher.js';
import type { SentencePieceSettings } from './types.js';

/** The meta space: spaces in normalised text and in pieces. */
export const META_SPACE = '\u2581';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

type NormalizerSettings = Pick<
  SentencePieceSettings,
  'addDummyPrefix' | 'removeExtraWhitespaces' | 'escapeWhitespaces' | 'treatWhitespaceAsSuffix'
>;

/**
 * sentencepiece's `Normalizer::Normalize` for a model without a precompiled rule (identity, as
 * Llama's): optional removal of leading, trailing and repeated spaces, the dummy prefix `▁`, spaces
 * escaped as `▁`. User-defined pieces pass through as units. A lone surrogate becomes U+FFFD, as
 * sentencepiece turns the invalid UTF-8 that TextEncoder would write for it into U+FFFD.
 */
export function normalize(input: string, settings: NormalizerSettings, userDefined: PrefixMatcher): string {
  if (input === '') return '';
  const text = input.replace(LONE_SURROGATE, '\ufffd');
  const space = settings.escapeWhitespaces ? META_SPACE : ' ';
  const prefix = settings.addDummyPrefix && !settings.treatWhitespaceAsSuffix ? space : '';
  const suffix = settings.addDummyPrefix && settings.treatWhitespaceAsSuffix ? space : '';

  if (!settings.removeExtraWhitespaces && userDefined.isEmpty) {
    // Llama's case, in one pass: every code point is its own prefix and spaces are only escaped.
    return prefix + (settings.escapeWhitespaces ? text.replaceAll(' ', META_SPACE) : text) + suffix;
  }

  // The general loop, unit by unit (a unit is a user-defined piece or one code point).
  const unitAt = (i: number): string => text.slice(i, i + (userDefined.match(text, i) || codePointLength(text, i)));
  let i = 0;
  if (settings.removeExtraWhitespaces) {
    while (i < text.length && unitAt(i) === ' ') i++;
    if (i === text.length) return '';
  }
  const out: string[] = [prefix];
  let isPrevSpace = settings.removeExtraWhitespaces;
  while (i < text.length) {
    const unit = unitAt(i);
    i += unit.length;
    let kept = unit;
    // Spaces that follow a space are dropped when removing extra whitespace.
    if (isPrevSpace) {
      let start = 0;
      while (start < kept.length && kept.charCodeAt(start) === 0x20) start++;
      kept = kept.slice(start);
    }
    if (kept !== '') {
      out.push(settings.escapeWhitespaces ? kept.replaceAll(' ', META_SPACE) : kept);
      isPrevSpace = kept.endsWith(' ');
    }
    if (!settings.removeExtraWhitespaces) isPrevSpace = false;
  }
  let normalized = out.join('');
  if (settings.removeExtraWhitespaces) {
    let end = normalized.length;
    while (end > 0 && normalized.endsWith(space, end)) end -= space.length;
    normalized = normalized.slice(0, end);
  }
  return normalized + suffix;
}
