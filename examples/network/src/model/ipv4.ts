/**
 * The little IPv4 arithmetic the example needs: parse a CIDR, tell whether an address is in it,
 * and pick the next free host address.
 * @module
 */

import { BadRequest } from './errors.js';

/** A parsed IPv4 CIDR. */
export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  /** The first and last usable host addresses. */
  readonly first: number;
  readonly last: number;
}

function toNumber(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Dotted-quad form of an address. */
export function formatAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Parse `a.b.c.d/n` (8 ≤ n ≤ 30, host bits zero); `BadRequest` naming `field` otherwise. */
export function parseCidr(cidr: string, field = 'cidr'): Cidr {
  const [address, bits, ...rest] = typeof cidr === 'string' ? cidr.split('/') : [];
  const network = address === undefined ? undefined : toNumber(address);
  const prefix = Number(bits);
  if (network === undefined || rest.length > 0 || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    throw new BadRequest(field, cidr, "pass an IPv4 CIDR such as '10.0.0.0/24' (prefix length 8 to 30).");
  }
  const size = 2 ** (32 - prefix);
  if (network % size !== 0) {
    throw new BadRequest(
      field,
      cidr,
      `the host bits must be zero: use '${formatAddress(network - (network % size))}/${prefix}'.`,
    );
  }
  return { network, prefix, first: network + 1, last: network + size - 2 };
}

/** Whether `address` is a usable host address of `cidr`. */
export function contains(cidr: Cidr, address: string): boolean {
  const n = toNumber(address);
  return n !== undefined && n >= cidr.first && n <= cidr.last;
}

/** The lowest usable address of `cidr` not in `taken`, or `undefined` when the subnet is full. */
export function nextFree(cidr: Cidr, taken: ReadonlySet<string>): string | undefined {
  for (let n = cidr.first; n <= cidr.last; n++) {
    const address = formatAddress(n);
    if (!taken.has(address)) return address;
  }
  return undefined;
}
