/**
 * The example's domain errors, after Neutron's exceptions. They extend `HeraldError` so that the
 * script can tell them from programming errors with one `instanceof`.
 * @module
 */

import { HeraldError } from '@herald/core';

/** Base class of the example's API errors; `status` is the HTTP status Neutron answers with. */
export class NeutronError extends HeraldError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A resource that does not exist. */
export class NotFound extends NeutronError {
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(
      404,
      `${resource[0]!.toUpperCase()}${resource.slice(1)} ${id} could not be found: check the id (list them first).`,
    );
  }
}

/** A request whose body is wrong; `field` and `value` say what. */
export class BadRequest extends NeutronError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    hint: string,
  ) {
    super(400, `Invalid ${field} ${JSON.stringify(value)}: ${hint}`);
  }
}

/** A resource that something else still uses. */
export class InUse extends NeutronError {
  constructor(
    readonly resource: string,
    readonly id: string,
    reason: string,
  ) {
    super(409, `${resource[0]!.toUpperCase()}${resource.slice(1)} ${id} is in use: ${reason}.`);
  }
}

/** L3's veto: a router's port must be removed through the router, not deleted as a port. */
export class ServicePortInUse extends NeutronError {
  constructor(
    readonly portId: string,
    readonly reason: string,
  ) {
    super(409, `Port ${portId} cannot be deleted directly via the port API: ${reason}.`);
  }
}

/** The VPN service's veto: a router that carries a VPN service cannot be deleted. */
export class RouterInUseByVpnService extends NeutronError {
  constructor(
    readonly routerId: string,
    readonly vpnServiceId: string,
  ) {
    super(409, `Router ${routerId} is used by VPN service ${vpnServiceId}: delete the VPN service first.`);
  }
}
