import { describeValue, TokenizerError } from './errors.js';
import { pythonStrip } from './python-text.js';
import { END_HEADER_ID, START_HEADER_ID } from './special-tokens.js';
import type { Tokenizer } from './tokenizer.js';

export type Role = 'system' | 'user' | 'assistant';
export const ROLES: readonly Role[] = ['system', 'user', 'assistant'];

export interface Message {
  role: Role;
  content: string;
}

export type Dialog = readonly Message[];

/**
 * Llama 3's chat prompt format:
 * `<|begin_of_text|>` then, per message, `<|start_header_id|>role<|end_header_id|>\n\n content <|eot_id|>`,
 * then an open assistant header for the model to complete. Content is stripped with Python's
 * whitespace set, and text inside content that spells a special token stays plain text.
 */
export class ChatFormat {
  readonly #startHeaderId: number;
  readonly #endHeaderId: number;

  constructor(readonly tokenizer: Tokenizer) {
    this.#startHeaderId = tokenizer.specialTokens.get(START_HEADER_ID) as number;
    this.#endHeaderId = tokenizer.specialTokens.get(END_HEADER_ID) as number;
  }

  encodeHeader(message: Pick<Message, 'role'>): number[] {
    checkRole(message, 'ChatFormat.encodeHeader: message');
    return [
      this.#startHeaderId,
      ...this.tokenizer.encode(message.role),
      this.#endHeaderId,
      ...this.tokenizer.encode('\n\n'),
    ];
  }

  encodeMessage(message: Message, where = 'ChatFormat.encodeMessage: message'): number[] {
    checkRole(message, where);
    if (typeof message.content !== 'string') {
      throw new TokenizerError(`${where}.content must be a string, got ${describeValue(message.content)}`);
    }
    return [
      ...this.encodeHeader(message),
      ...this.tokenizer.encode(pythonStrip(message.content)),
      this.tokenizer.eotId,
    ];
  }

  /** The prompt for the assistant's next turn. */
  encodeDialogPrompt(dialog: Dialog): number[] {
    if (!Array.isArray(dialog)) {
      throw new TokenizerError(
        `ChatFormat.encodeDialogPrompt: dialog must be an array of messages, got ${describeValue(dialog)}`,
      );
    }
    const ids = [this.tokenizer.bosId];
    dialog.forEach((message, i) => {
      ids.push(...this.encodeMessage(message, `ChatFormat.encodeDialogPrompt: dialog[${i}]`));
    });
    ids.push(...this.encodeHeader({ role: 'assistant' }));
    return ids;
  }
}

function checkRole(message: unknown, where: string): asserts message is Pick<Message, 'role'> {
  if (typeof message !== 'object' || message === null) {
    throw new TokenizerError(`${where} must be an object with role and content, got ${describeValue(message)}`);
  }
  const role = (message as { role?: unknown }).role;
  if (!ROLES.includes(role as Role)) {
    throw new TokenizerError(
      `${where}.role is ${describeValue(role)}; expected one of ${ROLES.map((r) => `"${r}"`).join(', ')}`,
    );
  }
}
