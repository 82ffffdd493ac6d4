// Messages between the invoker (container.ts) and an action runner (runner.ts): the bodies of the
// action proxy's POST /init and POST /run, carried over the child's IPC channel.

/** Printed on stdout and stderr after each activation so the invoker can cut the logs. */
export const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

export interface InitMessage {
  op: 'init';
  value: { name: string; main: string; code: string; binary: boolean; env: Record<string, string> };
}
export interface RunMessage {
  op: 'run';
  value: unknown;
  namespace: string;
  action_name: string;
  action_version: string;
  activation_id: string;
  transaction_id: string;
  deadline: string;
  api_key?: string;
}
export interface ReplyMessage {
  op: 'ready' | 'init' | 'run';
  status: number;
  /** JSON text, so that the parent measures the response size as sent. */
  body: string;
  /**
   * `run` only: whether the log sentinels follow. They are written only when something was printed
   * since the last ones, so a quiet activation costs no pipe traffic.
   */
  logs?: boolean;
}
