// jest globalSetup of the privileged project: fail the whole run at once when privileges are
// missing, mount bpffs if needed, and sweep what crashed runs left behind (only resources whose
// creating process is gone).
import { requirePrivileged } from './privileges';
import { prepareHost } from './sweep';

export default async function globalSetup(): Promise<void> {
  requirePrivileged();
  await prepareHost((line) => process.stderr.write(`${line}\n`));
}
