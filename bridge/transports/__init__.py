"""Transports: the core's registry, forwarding and waiters, and one package per transport.

The contract a transport implements is the kit's (`bridge.plugin.Transport`);
each transport is a package here, registered by
entry point in the group `bridge.transports`. Nothing outside a transport's
package names it.
"""
