/* ---- ring_split.h ---- */
