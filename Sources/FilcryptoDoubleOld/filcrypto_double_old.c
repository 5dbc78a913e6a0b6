// The libfilcrypto test double without `generate_synth_proofs`: what an older filecoin-ffi looks
// like to the loader (product `FilcryptoDoubleOld`, `libFilcryptoDoubleOld.so`). Same source,
// one symbol left out, so the tests can check the load error names exactly that symbol.
#define FILCRYPTO_DOUBLE_WITHOUT_SYNTH_PROOFS 1
#include "../FilcryptoDouble/filcrypto_double.c"
