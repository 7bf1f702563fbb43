export { CliError } from './errors.js';
export { defaultModelDir, type LoadedModel, loadFromFlags, type ModelFlags } from './model-flags.js';
export { type RunningServer, type ServerOptions, startServer } from './server/index.js';
