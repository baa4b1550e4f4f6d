/* An AVX2-only CPU, as far as code that asks CPUID can tell: LD_PRELOAD this into a process
 * and every CPUID instruction it executes (ONNX Runtime's MLAS, PyTorch's cpuinfo, oneDNN,
 * NumPy) reports an x86-64-v3 CPU: AVX512, AVX-VNNI, AMX and the other post-AVX2 vector
 * features are cleared. Runtimes that pick their kernels by CPUID (MLAS has no switch for
 * it) then run their AVX2 kernels on a newer CPU.
 *
 * How: Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID 0; the CPU flag `cpuid_fault`),
 * set in a constructor before any runtime is loaded and inherited by every thread made
 * later; the SIGSEGV it raises is answered here by running the real CPUID with faulting
 * briefly off, masking the result, and stepping over the instruction. Any other SIGSEGV
 * gets the default action. Used by benchmarks/embedding_speed.py --cpu avx2.
 *
 *   gcc -O2 -shared -fPIC avx2_cpu.c -o avx2_cpu.so
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define BIT(n) (1u << (n))

static void real_cpuid(unsigned leaf, unsigned subleaf, unsigned out[4]) {
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
    __cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]);
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
}

static void mask(unsigned leaf, unsigned subleaf, unsigned r[4]) {
    if (leaf == 7 && subleaf == 0) {
        /* EBX: avx512f, dq, ifma, pf, er, cd, bw, vl */
        r[1] &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31));
        /* ECX: avx512_vbmi, vbmi2, gfni, vaes, vpclmulqdq, vnni, bitalg, vpopcntdq */
        r[2] &= ~(BIT(1) | BIT(6) | BIT(8) | BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(14));
        /* EDX: 4vnniw, 4fmaps, vp2intersect, amx_bf16, avx512_fp16, amx_tile, amx_int8 */
        r[3] &= ~(BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25));
    } else if (leaf == 7 && subleaf == 1) {
        r[0] = r[3] = 0; /* avx_vnni, avx512_bf16, amx_fp16, avx_ifma, avx_vnni_int8, ... */
    } else if (leaf == 0x1d || leaf == 0x1e || leaf == 0x24) {
        r[0] = r[1] = r[2] = r[3] = 0; /* AMX tile information, AVX10 */
    }
}

static void on_fault(int signal_number, siginfo_t *info, void *context) {
    (void)info;
    ucontext_t *uc = context;
    greg_t *registers = uc->uc_mcontext.gregs;
    const unsigned char *at = (const unsigned char *)registers[REG_RIP];
    if (at[0] != 0x0f || at[1] != 0xa2) { /* not CPUID: fault again, by default */
        signal(signal_number, SIG_DFL);
        return;
    }
    unsigned leaf = (unsigned)registers[REG_RAX], subleaf = (unsigned)registers[REG_RCX];
    unsigned result[4];
    real_cpuid(leaf, subleaf, result);
    mask(leaf, subleaf, result);
    registers[REG_RAX] = result[0];
    registers[REG_RBX] = result[1];
    registers[REG_RCX] = result[2];
    registers[REG_RDX] = result[3];
    registers[REG_RIP] += 2;
}

__attribute__((constructor)) static void avx2_cpu(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, NULL) != 0 ||
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fprintf(stderr, "avx2_cpu: CPUID faulting unavailable; refusing to run unmasked\n");
        _exit(86);
    }
}
