# Fails if a source of the pure Raft core (tinykv::raft) includes something a
# pure state machine has no use for: threads, clocks, files, sockets, OS
# calls, randomness from the OS, or a higher layer. The core's randomness
# comes from the seeded PRNG in Config, its time from Tick(), its storage
# from the Storage interface. (MemoryStorage's mutex, as in etcd, is allowed.)
# Run by ctest as RaftCore.SourcesIncludeNoIoThreadsOrClocks.
file(GLOB core_sources
  ${ROOT}/src/*.cc ${ROOT}/src/*.h ${ROOT}/src/sim/*.cc ${ROOT}/src/sim/*.h
  ${ROOT}/include/tinykv/raft/*.h)
set(forbidden
  "<thread>" "<chrono>" "<fstream>" "<filesystem>" "<random>" "<future>"
  "<condition_variable>" "<ctime>" "<cstdio>" "<iostream>" "<unistd.h>" "<fcntl.h>" "<sys/"
  "boost/" "asio" "tinykv/storage/" "tinykv/net/" "tinykv/replica/" "tinykv/common/clock.h")
set(bad "")
foreach(f ${core_sources})
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    foreach(pat ${forbidden})
      string(FIND "${line}" "${pat}" pos)
      if(NOT pos EQUAL -1)
        list(APPEND bad "${f}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
list(LENGTH core_sources n)
if(n EQUAL 0)
  message(FATAL_ERROR "no core sources found under ${ROOT}")
endif()
if(bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "the pure Raft core includes forbidden headers:\n  ${text}")
endif()
message(STATUS "checked ${n} core files: no thread, clock, file, OS or higher-layer includes")
