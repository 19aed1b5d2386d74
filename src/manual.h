/* virtq.h — virtqueues for firmware, bootloaders and small kernels.
   (manual: written below as the implementation lands) */
