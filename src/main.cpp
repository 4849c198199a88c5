#include <cstdio>
int main() { std::puts("atende: under construction"); return 0; }
