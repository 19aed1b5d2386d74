/* ---- errors.h ---- */
