// The built package exposes the names other packages and apps rely on (see the package README).
import { describe, expect, it } from 'vitest';

describe('dist entry points', () => {
  it('dist/index.js exports the browser-safe core', async () => {
    const core = await import('../dist/index.js');
    for (const name of [
      'Tokenizer',
      'ChatFormat',
      'CharTokenizer',
      'TokenizerError',
      'SPECIAL_TOKEN_NAMES',
      'SentencePieceTokenizer',
      'Llama2ChatFormat',
      'dialogFormatFor',
      'tokenizerFamily',
    ]) {
      expect(core, name).toHaveProperty(name);
    }
    expect(typeof core.Tokenizer.fromRanks).toBe('function');
    expect(typeof core.CharTokenizer.fromCorpus).toBe('function');
    expect(typeof core.CharTokenizer.fromJSON).toBe('function');
  });

  it('dist/node.js adds loadTokenizer', async () => {
    const node = await import('../dist/node.js');
    expect(typeof node.loadTokenizer).toBe('function');
    expect(typeof node.loadCharTokenizer).toBe('function');
    expect(typeof node.loadAnyTokenizer).toBe('function');
    expect(typeof node.loadSentencePieceTokenizer).toBe('function');
    expect(node.Tokenizer).toBe((await import('../dist/index.js')).Tokenizer);
  });

  it('the browser-safe core imports nothing from Node', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dist = join(import.meta.dirname, '..', 'dist');
    const core = readFileSync(join(dist, 'index.js'), 'utf8');
    const chunks = readdirSync(dist).filter((f) => f.startsWith('chunk-') && f.endsWith('.js'));
    for (const file of [core, ...chunks.map((f) => readFileSync(join(dist, f), 'utf8'))]) {
      expect(file).not.toMatch(/from ['"]node:/);
    }
  });
});
