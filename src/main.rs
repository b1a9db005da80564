// mimalloc: parsing allocates many small strings on two threads; the system
// allocator spent a fifth of `check` in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hindsight::cli::main()
}
