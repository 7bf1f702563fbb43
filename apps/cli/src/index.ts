export { defaultModelDir } from './model-flags.js';
export {
  BatchingEngine,
  type GenerationEngine,
  type RunningServer,
  SerialEngine,
  type ServerOptions,
  startServer,
} from './server/index.js';
