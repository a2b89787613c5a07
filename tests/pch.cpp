// Compiles the test programs' precompiled header (test_pch.hpp) once; every test program reuses it.
