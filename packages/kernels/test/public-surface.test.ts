// The built package: the browser entry must not pull in Node or Dawn; the Node entry adds Dawn.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(import.meta.dirname, '..', 'dist');

describe('dist entry points', () => {
  it('the browser entry imports nothing from Node and not the webgpu package', () => {
    const files = ['index.js', ...readdirSync(dist).filter((f) => f.startsWith('chunk-') && f.endsWith('.js'))];
    for (const file of files) {
      const source = readFileSync(join(dist, file), 'utf8');
      expect(source, file).not.toMatch(/from ['"]node:/);
      expect(source, file).not.toMatch(/from ['"]webgpu['"]/);
    }
  });

  it('the package maps Node to the Dawn entry and everything else to the browser entry', async () => {
    const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['.'].node).toBe('./dist/node.js');
    expect(pkg.exports['.'].default).toBe('./dist/index.js');
    const node = await import('../dist/node.js');
    for (const name of ['createBackend', 'nodeGPU', 'matmul', 'matmulSwiglu', 'attention', 'fromBFloat16']) {
      expect(node, name).toHaveProperty(name);
    }
  });
});
