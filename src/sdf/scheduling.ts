// Scheduling attributes shared by PDs and VMs: priority, budget, period and cpu.

import type { XmlElement } from "./xml.ts";
import { optionalU64, safeNumber } from "./attributes.ts";
import { valueError } from "./errors.ts";

/** Microkit's default budget, in microseconds; the period defaults to the budget. */
const BUDGET_DEFAULT = 1000;
/** The monitor runs at 255; PDs and VMs get 0..=254. */
const MAX_PRIORITY = 254;

export interface SchedulingParams {
  priority: number;
  budget: number;
  period: number;
}

export function parseBudgetPeriod(element: XmlElement): { budget: number; period: number } {
  const budgetValue = optionalU64(element, "budget") ?? BigInt(BUDGET_DEFAULT);
  const periodValue = optionalU64(element, "period") ?? budgetValue;
  if (budgetValue > periodValue) {
    throw valueError(
      element,
      `budget (${budgetValue}) must be less than, or equal to, period (${periodValue})`,
    );
  }
  return {
    budget: safeNumber(element, "budget", budgetValue),
    period: safeNumber(element, "period", periodValue),
  };
}

export function parsePriority(element: XmlElement): number {
  const priority = optionalU64(element, "priority") ?? 0n;
  if (priority > BigInt(MAX_PRIORITY)) {
    throw valueError(element, `priority must be between 0 and ${MAX_PRIORITY}`);
  }
  return Number(priority);
}

/** A core number below the configured core count. */
export function parseCpu(element: XmlElement, cores: number, fallback: number): number {
  const cpu = optionalU64(element, "cpu");
  if (cpu === undefined) return fallback;
  if (cpu >= BigInt(cores)) throw valueError(element, `cpu core must be less than ${cores}, got ${cpu}`);
  return Number(cpu);
}
