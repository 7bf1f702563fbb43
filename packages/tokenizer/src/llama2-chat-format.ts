import type { Dialog, Message } from './chat-format.js';
import { describeValue, TokenizerError } from './errors.js';
import { pythonStrip } from './python-text.js';
import type { TextTokenizer } from './types.js';

export const B_INST = '[INST]';
export const E_INST = '[/INST]';
export const B_SYS = '<<SYS>>\n';
export const E_SYS = '\n<</SYS>>\n\n';
/** Text Llama 2's reference refuses inside messages: it would let a user forge turns. */
export const LLAMA2_SPECIAL_TAGS: readonly string[] = [B_INST, E_INST, '<<SYS>>', '<</SYS>>'];

const ROLE_ORDER =
  "Llama 2 chat takes an optional 'system' message first, then 'user' and 'assistant' alternating, ending with 'user'";

/**
 * Llama 2's chat prompt, as its reference `chat_completion` builds it: a system message is folded
 * into the first user message between `<<SYS>>\n` and `\n<</SYS>>\n\n`; each user/assistant pair
 * is `bos [INST] {user.strip()} [/INST] {answer.strip()} eos`; the last user message is
 * `bos [INST] {user.strip()} [/INST]`, for the model to answer (it ends its answer with eos).
 * Messages containing [INST], [/INST], <<SYS>> or <</SYS>> are refused (the reference generates and
 * then replaces the answer with an error; refusing up front spends nothing).
 */
export class Llama2ChatFormat {
  constructor(readonly tokenizer: TextTokenizer) {}

  /** The prompt for the assistant's next turn. */
  encodeDialogPrompt(dialog: Dialog): number[] {
    const where = 'Llama2ChatFormat.encodeDialogPrompt: dialog';
    if (!Array.isArray(dialog))
      throw new TokenizerError(`${where} must be an array of messages, got ${describeValue(dialog)}`);
    if (dialog.length === 0) throw new TokenizerError(`${where} is empty; ${ROLE_ORDER}`);
    dialog.forEach((message, i) => {
      checkMessage(message, `${where}[${i}]`);
    });

    // The system message joins the first user message, unstripped, as the reference concatenates.
    let turns: Message[] = [...dialog];
    if (turns[0]?.role === 'system') {
      const [system, first] = turns as [Message, Message | undefined];
      if (first === undefined) throw new TokenizerError(`${where} has only a system message; ${ROLE_ORDER}`);
      turns = [{ role: first.role, content: B_SYS + system.content + E_SYS + first.content }, ...turns.slice(2)];
    }
    const offset = dialog.length - turns.length;
    turns.forEach((message, i) => {
      const expected = i % 2 === 0 ? 'user' : 'assistant';
      if (message.role !== expected) {
        throw new TokenizerError(
          `${where}[${i + offset}].role is "${message.role}" where "${expected}" was expected; ${ROLE_ORDER}`,
        );
      }
    });
    if (turns.length % 2 === 0) {
      throw new TokenizerError(`${where} ends with an assistant message; ${ROLE_ORDER}`);
    }

    const ids: number[] = [];
    for (let i = 0; i + 1 < turns.length; i += 2) {
      const user = pythonStrip((turns[i] as Message).content);
      const answer = pythonStrip((turns[i + 1] as Message).content);
      ids.push(...this.tokenizer.encode(`${B_INST} ${user} ${E_INST} ${answer} `, { bos: true, eos: true }));
    }
    const last = pythonStrip((turns[turns.length - 1] as Message).content);
    ids.push(...this.tokenizer.encode(`${B_INST} ${last} ${E_INST}`, { bos: true, eos: false }));
    return ids;
  }
}

function checkMessage(message: unknown, where: string): asserts message is Message {
  if (typeof message !== 'object' || message === null) {
    throw new TokenizerError(`${where} must be an object with role and content, got ${describeValue(message)}`);
  }
  const { role, content } = message as { role?: unknown; content?: unknown };
  if (role !== 'system' && role !== 'user' && role !== 'assistant') {
    throw new TokenizerError(`${where}.role is ${describeValue(role)}; expected "system", "user" or "assistant"`);
  }
  if (typeof content !== 'string')
    throw new TokenizerError(`${where}.content must be a string, got ${describeValue(content)}`);
  const tag = LLAMA2_SPECIAL_TAGS.find((t) => content.includes(t));
  if (tag !== undefined) {
    throw new TokenizerError(
      `${where}.content contains ${tag}; Llama 2 chat refuses messages containing ${LLAMA2_SPECIAL_TAGS.join(', ')}`,
    );
  }
}
