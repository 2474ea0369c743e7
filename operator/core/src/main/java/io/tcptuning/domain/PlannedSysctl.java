package io.tcptuning.domain;

/**
 * One line of a plan. {@code current} is null when the file does not exist on this kernel.
 * {@code reason} is one CamelCase word for machines, {@code message} a sentence for people.
 */
public record PlannedSysctl(Sysctl sysctl, String current, String desired, Action action, String reason, String message) {}
