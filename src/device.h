/* ---- device.h ---- */
