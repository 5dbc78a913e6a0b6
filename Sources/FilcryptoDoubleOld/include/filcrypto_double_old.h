#ifndef SEALER_FILCRYPTO_DOUBLE_OLD_H
#define SEALER_FILCRYPTO_DOUBLE_OLD_H

// libFilcryptoDoubleOld.so: the libfilcrypto double (FilcryptoDouble/include/filcrypto_double.h)
// without `generate_synth_proofs`. Nothing to declare beyond that header.

#endif
