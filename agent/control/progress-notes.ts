/**
 * Download progress as lines for the console and the log: when a download starts or resumes, then
 * at each quarter, so a 70 MB k3s over a slow home line shows it is moving without flooding the
 * screen.
 */
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export type ProgressEvent = 'start' | 'data';

export function createProgressNotes(note: (message: string) => void) {
  const shown = new Map<string, number>();
  return (what: string, received: number, size: number, event: ProgressEvent): void => {
    const quarter = Math.min(4, Math.floor((received / size) * 4));
    if (event === 'start') {
      note(
        received === 0
          ? `Downloading ${what} (${mb(size)}).`
          : `Resuming the download of ${what} at ${mb(received)} of ${mb(size)}.`,
      );
      shown.set(what, quarter);
      return;
    }
    if (quarter <= (shown.get(what) ?? 0)) return;
    shown.set(what, quarter);
    note(
      quarter === 4
        ? `Downloaded ${what} (${mb(size)}).`
        : `Downloading ${what}: ${quarter * 25}% (${mb(received)} of ${mb(size)}).`,
    );
  };
}
