export type {
  ProcessName,
  ServiceName,
  ServiceProcess,
  ServiceRuntime,
  StartServiceOptions,
} from './stack.ts';
export {
  coreServices,
  gatewayName,
  natsReachable,
  repoRoot,
  serviceNames,
  startLocalNats,
  startService,
} from './stack.ts';
