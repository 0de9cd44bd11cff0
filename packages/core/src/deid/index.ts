/** De-identification and pseudonymization: Safe Harbor, keyed and vault tokens, FF1, disclosure control. */
export {};
