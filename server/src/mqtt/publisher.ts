/** How services send to devices without knowing about aedes. */
export interface Publisher {
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}
