package io.tcptuning.node.census;

/**
 * A destination ({@code dst ip:port}; IPv6 as {@code "[addr]:port"}, IPv4-mapped IPv6 folded into
 * IPv4 because both share the kernel's port space) and the sockets holding an ephemeral local port
 * to it. {@code pressure} is {@code sockets / ip_local_port_range size}.
 */
public record Destination(String address, long sockets, double pressure) {}
