/* ---- transport_mmio.h ---- */
