import {
  type DialogFormat,
  dialogFormatFor,
  type TextTokenizer,
  Tokenizer,
  tokenizerFamily,
} from '@llama-ts/tokenizer/node';

/**
 * Which chat format a model's `tokenizer.chat_template` (a Jinja template, as GGUF files and
 * Hugging Face's tokenizer_config.json carry it) is, recognised by the markers it writes: llama-ts
 * runs the package's ChatFormat for those it knows instead of running the template.
 */
export type ChatTemplateKind = 'llama3' | 'llama2';

/** What each known template writes; Mistral's [INST] template lacks Llama 2's <<SYS>> and is not Llama 2's. */
const TEMPLATE_MARKERS: Readonly<Record<ChatTemplateKind, readonly string[]>> = {
  llama3: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
  llama2: ['[INST]', '[/INST]', '<<SYS>>'],
};

const TEMPLATE_NAMES: Readonly<Record<ChatTemplateKind, string>> = {
  llama3: "Llama 3's (<|start_header_id|> … <|eot_id|>)",
  llama2: "Llama 2's ([INST] <<SYS>> … [/INST])",
};

export function recogniseChatTemplate(template: string): ChatTemplateKind | undefined {
  return (Object.keys(TEMPLATE_MARKERS) as ChatTemplateKind[]).find((kind) =>
    TEMPLATE_MARKERS[kind].every((marker) => template.includes(marker)),
  );
}

/**
 * A model's chat format, or why it has none: its tokenizer, or its chat template (`unavailable` is
 * the message chat calls fail with).
 */
export type ChatAvailability = { format: DialogFormat } | { unavailable: string; because: 'tokenizer' | 'template' };

/**
 * The chat format for a tokenizer and its model's template (undefined: the model says nothing, as
 * Meta folders do): the tokenizer's family's format (dialogFormatFor: Llama 3's ChatFormat, when the
 * tokenizer has its header tokens, or Llama 2's Llama2ChatFormat) when the template, if any, is that
 * family's. Other templates are not run (no Jinja here): chat names the key and says why.
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
  const family = tokenizerFamily(tokenizer);
  if (kind !== undefined && family !== undefined && family !== kind) {
    // The format follows the vocabulary: a template of the other family cannot be written with it.
    return {
      unavailable: `this model's chat template (tokenizer.chat_template) is ${TEMPLATE_NAMES[kind]}, but its vocabulary is ${family === 'llama3' ? "Llama 3's" : "Llama 1/2's (SentencePiece)"}; complete (plain text) works`,
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
