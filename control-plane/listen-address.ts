// "host:port" listen addresses for the control plane's servers: the shared parser, with the control
// plane's typed error.
import { formatAddress, parseListenAddress as parse, SettingError, type ListenAddress } from '../common/settings/declared-settings';
import { ControlPlaneError, ControlPlaneErrorCodes } from './errors';

export type { ListenAddress };
export { formatAddress };

/** Parses "127.0.0.1:15012", "[::1]:15012" or ":15012" (all interfaces); port 0 = any free port. */
export function parseListenAddress(name: string, value: string): ListenAddress {
  try {
    return parse(name, value);
  } catch (e) {
    if (e instanceof SettingError) throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, e.message);
    throw e;
  }
}
