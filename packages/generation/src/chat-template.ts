import { type DialogFormat, dialogFormatFor, type TextTokenizer, Tokenizer } from '@llama-ts/tokenizer/node';

/**
 * Which chat format a model's `tokenizer.chat_template` (a Jinja template, as GGUF files and
 * Hugging Face's tokenizer_config.json carry it) is, recognised by the markers it writes: llama-ts
 * runs the package's ChatFormat for those it knows instead of running the template.
 */
export type ChatTemplateKind = 'llama3' | 'llama2';

export function recogniseChatTemplate(template: string): ChatTemplateKind | undefined {
  if (['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'].every((marker) => template.includes(marker))) {
    return 'llama3';
  }
  if (template.includes('[INST]') && template.includes('[/INST]')) return 'llama2';
  return undefined;
}

/**
 * A model's chat format, or why it has none: its tokenizer, or its chat template (`unavailable` is
 * the message chat calls fail with).
 */
export type ChatAvailability = { format: DialogFormat } | { unavailable: string; because: 'tokenizer' | 'template' };

/**
 * The chat format for a tokenizer and its model's template (undefined: the model says nothing, as
 * Meta folders do): the tokenizer's family's format (dialogFormatFor: Llama 3's ChatFormat, when the
 * tokenizer has its header tokens, or Llama 2's) when the template, if any, is Llama 3's.
 */
export function chatAvailability(tokenizer: TextTokenizer, template: string | undefined): ChatAvailability {
  const kind = template === undefined ? undefined : recogniseChatTemplate(template);
  if (template !== undefined && kind === undefined) {
    return {
      unavailable:
        "this model's chat template (tokenizer.chat_template) is neither Llama 3's nor Llama 2's, the chat formats llama-ts has; complete (plain text) works",
      because: 'template',
    };
  }
  if (kind === 'llama2') {
    // Llama2ChatFormat exists, but a GGUF with this template carries a SentencePiece vocabulary,
    // which gguf-tokenizer.ts does not read yet (issue 14): wire both together.
    return {
      unavailable: "this model's chat template is Llama 2's ([INST] … [/INST]), which llama-ts does not have yet",
      because: 'template',
    };
  }
  const format = dialogFormatFor(tokenizer);
  if (format === undefined) {
    return {
      unavailable: 'chat needs a Llama 3 or Llama 2 tokenizer (a chat format); this model has a character tokenizer',
      because: 'tokenizer',
    };
  }
  if (
    tokenizer instanceof Tokenizer &&
    (!tokenizer.specialTokens.has('<|start_header_id|>') || !tokenizer.specialTokens.has('<|end_header_id|>'))
  ) {
    return {
      unavailable: "chat needs Llama 3's header tokens (<|start_header_id|>), which this vocabulary lacks",
      because: 'tokenizer',
    };
  }
  return { format };
}
