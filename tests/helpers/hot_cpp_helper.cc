// A C++ program whose hot function has a mangled name, for tracectl
// flame's demangling: demo::Spinner<unsigned long>::Spin(unsigned long)
// runs for as many seconds as argv[1] says (default 1).
#include <chrono>
#include <cstdlib>

namespace demo {

template <typename T>
struct Spinner {
  __attribute__((noinline)) static T Spin(T seed) {
    T x = seed;
    for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005UL + 1;
    return x;
  }
};

}  // namespace demo

volatile unsigned long sink;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  unsigned long x = 1;
  while (std::chrono::steady_clock::now() < end) {
    x = demo::Spinner<unsigned long>::Spin(x);
  }
  sink = x;
  return 0;
}
