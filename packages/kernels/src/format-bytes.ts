const UNITS = ['GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A byte count for messages: "512 bytes", "7.4 KiB", "3.4 MiB", "4.00 GiB", "1.50 PiB" (GiB and up with two
 * decimals, so that a size near a limit such as the wasm backend's 4 GiB reads precisely).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 2 ** 10) return `${bytes} bytes`;
  if (bytes < 2 ** 20) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  let value = bytes / 2 ** 30;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit]}`;
}
