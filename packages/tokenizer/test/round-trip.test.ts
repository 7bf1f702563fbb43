// decode(encode(x)) === x, and the reference's splitting of long input (spec §2.5).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../src/index.js';
import { llama3Tokenizer } from './fixtures.js';

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await llama3Tokenizer();
});

const samples: Record<string, string> = {
  chinese: '我们今天去公园散步，天气非常好。人工智能正在改变世界。',
  arabic: 'مرحبا بالعالم، كيف حالك اليوم؟ الذكاء الاصطناعي يغير العالم.',
  hindi: 'नमस्ते दुनिया, आज आप कैसे हैं? कृत्रिम बुद्धिमत्ता दुनिया को बदल रही है।',
  russian: 'Привет, мир! Как дела сегодня? Искусственный интеллект меняет мир.',
  japanese: '日本語のテキストとカタカナ、ひらがな。',
  korean: '안녕하세요 세계! 인공지능이 세상을 바꾸고 있습니다.',
  'emoji with skin tones and ZWJ sequences': '👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 👩🏿‍💻 🧑‍🤝‍🧑 🇫🇷 ❤️‍🔥 1️⃣',
  'combining marks': 'e\u0301 a\u0308 n\u0303 Z\u0351\u0300\u0353a\u0308\u0324l\u0303\u0330g\u0301o',
  'whitespace runs': `a${' '.repeat(1000)}b${'\t'.repeat(300)}c${'\n'.repeat(500)}d\r\n\r\n${'\u3000'.repeat(50)}e\u0085\u00a0\u001c`,
  'lone surrogate free astral text': '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝 𓀀𓀁 🀄',
};

describe('decode(encode(x)) === x', () => {
  it.each(Object.entries(samples))('%s', (_, text) => {
    const ids = tokenizer.encode(text);
    expect(ids.length).toBeGreaterThan(0);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it('long whitespace runs past the 25,000-character split', () => {
    const text = `start${' '.repeat(60_000)}middle${'\n'.repeat(30_000)}end${'\t'.repeat(25_001)}`;
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('replaces a lone surrogate with U+FFFD, as Python does', () => {
    expect(tokenizer.decode(tokenizer.encode('a\ud800b'))).toBe('a\ufffdb');
  });
});

describe('splitting of long input', () => {
  it('cuts a non-whitespace run after 25,000 code points, not UTF-16 units', () => {
    // Astral letters are two UTF-16 units each. Letters alternate with digits so that tiktoken's
    // regex pieces stay short (a single 25,000-letter piece takes seconds of BPE).
    const run = '𝔞1'.repeat(12_501);
    const codePoints = [...run];
    const ids = tokenizer.encode(run);
    expect(ids).toEqual([
      ...tokenizer.encode(codePoints.slice(0, 25_000).join('')),
      ...tokenizer.encode(codePoints.slice(25_000).join('')),
    ]);
    // Cutting at 25,000 UTF-16 units instead would split the text in another place.
    expect(ids).not.toEqual([...tokenizer.encode(run.slice(0, 25_000)), ...tokenizer.encode(run.slice(25_000))]);
  });

  it('encodes a 1 MB string without whitespace, each 25,000-code-point run on its own', () => {
    const alphabet = 'thequickbrownfoxjumpsoverthelazydog';
    let text = '';
    while (text.length < 1_000_000) text += alphabet;
    text = text.slice(0, 1_000_000);
    const ids = tokenizer.encode(text);
    expect(tokenizer.decode(ids)).toBe(text);
    // 40 runs of 25,000 characters; each is encoded like the same run alone.
    const firstRun = tokenizer.encode(text.slice(0, 25_000));
    expect(ids.slice(0, firstRun.length)).toEqual(firstRun);
  });
});
