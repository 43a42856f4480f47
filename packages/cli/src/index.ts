export type {
  ServiceName,
  ServiceProcess,
  ServiceRuntime,
  StartServiceOptions,
} from './stack.ts';
export {
  coreServices,
  natsReachable,
  repoRoot,
  serviceNames,
  startLocalNats,
  startService,
} from './stack.ts';
