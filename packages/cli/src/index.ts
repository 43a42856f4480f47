export type { ServiceName, ServiceProcess, StartServiceOptions } from './stack.ts';
export { natsReachable, repoRoot, serviceNames, startLocalNats, startService } from './stack.ts';
