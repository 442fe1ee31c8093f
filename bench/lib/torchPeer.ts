/** The PyTorch peer's environment: which BLAS Debian's python3-torch gets from the system. */
import * as fs from "node:fs"

/**
 * Debian's python3-torch calls the BLAS the alternatives system gives `libblas.so.3`: the reference
 * BLAS (about 6 GFLOP/s here) unless an optimised one is installed (`apt-get install
 * libopenblas0-pthread`: about 200 here). The bench tables name it, as PyTorch's speed depends on it.
 */
export const systemBlas = (): string => {
  try {
    const target = fs.realpathSync("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return target.includes("openblas") ? `OpenBLAS (${target})` : target.includes("blis") ? `BLIS (${target})` : `reference BLAS (${target})`
  } catch {
    return "unknown BLAS"
  }
}
