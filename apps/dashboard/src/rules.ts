/** The obligation rules of SPEC §3, §6 and §7 (prepayment is a target, shown apart). */
export const OBLIGATION_RULES = [
  'signing',
  'announcement',
  'filing',
  'acceptance',
  'payment',
  'intention',
  'smePayment',
] as const;

/** Rules an inspector may exempt (SPEC §2 ObligationExempted). */
export const EXEMPTIBLE_RULES = [...OBLIGATION_RULES, 'prepayment'] as const;
