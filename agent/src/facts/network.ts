import type os from 'node:os';

export interface NetworkInterfaceFact {
  name: string;
  mac: string;
  addresses: string[];
}

/** One entry per interface with its addresses in CIDR form; loopback is left out (every machine
 * has it, and it would only add noise to fact targeting). */
export function networkInterfaceFacts(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): NetworkInterfaceFact[] {
  const facts: NetworkInterfaceFact[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    const external = (infos ?? []).filter((info) => !info.internal);
    if (!external.length) continue;
    facts.push({ name, mac: external[0].mac, addresses: external.map((info) => info.cidr ?? info.address) });
  }
  return facts.sort((a, b) => a.name.localeCompare(b.name));
}
