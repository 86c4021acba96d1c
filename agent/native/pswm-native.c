/* pswm-native.exe: the Windows calls Node has no binding for, shipped beside pswm.exe and built
 * from this file by `npm run build:windows` (mingw-w64). Three modes, each one short-lived process:
 *
 *   pswm-native protect <entropy>     stdin: bytes; stdout: a DPAPI blob (machine scope + entropy)
 *   pswm-native unprotect <entropy>   stdin: a blob; stdout: the bytes (never written to disk)
 *   pswm-native jobrun <max MiB> <program> [args...]
 *       runs the command line that follows, verbatim, in a Job Object with kill-on-close (and a job
 *       memory limit when <max MiB> > 0); exits with the program's exit code. When this process
 *       ends, however it ends (the agent kills it on a timeout), the job handle closes and Windows
 *       ends every process the program started. It also ends when the process that started it
 *       (the agent) ends, so a crashed or stopped agent leaves no script running.
 *
 * Errors: one line on stderr starting "pswm-native:", exit code 120-124 (before the program ran),
 * 125 (the run was ended because its starter ended). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wincrypt.h>
#include <tlhelp32.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define EXIT_USAGE 120
#define EXIT_IO 121
#define EXIT_CRYPTO 122
#define EXIT_JOB 123
#define EXIT_START 124
#define EXIT_ORPHANED 125

static int fail(int code, const char *what) {
  fprintf(stderr, "pswm-native: %s (Windows error %lu)\n", what, (unsigned long)GetLastError());
  return code;
}

/* stdin read whole, in binary mode (no CRLF translation). */
static BYTE *read_stdin(DWORD *size) {
  size_t cap = 4096, len = 0;
  BYTE *buf = malloc(cap);
  _setmode(_fileno(stdin), _O_BINARY);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      if (cap > 16 * 1024 * 1024) { free(buf); return NULL; }
      buf = realloc(buf, cap);
    }
    size_t got = fread(buf + len, 1, cap - len, stdin);
    if (got == 0) break;
    len += got;
  }
  *size = (DWORD)len;
  return buf;
}

static int write_stdout(const BYTE *data, DWORD size) {
  _setmode(_fileno(stdout), _O_BINARY);
  if (fwrite(data, 1, size, stdout) != size || fflush(stdout) != 0) return fail(EXIT_IO, "cannot write the result");
  return 0;
}

static int dpapi(int protect, const char *entropy) {
  DWORD size = 0;
  BYTE *input = read_stdin(&size);
  if (!input) return fail(EXIT_IO, "cannot read stdin");
  DATA_BLOB in = { size, input }, out = { 0, NULL };
  DATA_BLOB extra = { (DWORD)strlen(entropy), (BYTE *)entropy };
  /* LOCAL_MACHINE: the service (LocalSystem) and an administrator's `pswm status` both decrypt it;
   * UI_FORBIDDEN: a service must never wait on a prompt */
  DWORD flags = CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN;
  BOOL ok = protect ? CryptProtectData(&in, L"pswm agent key", &extra, NULL, NULL, flags, &out)
                    : CryptUnprotectData(&in, NULL, &extra, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &out);
  SecureZeroMemory(input, size);
  free(input);
  if (!ok) return fail(EXIT_CRYPTO, protect ? "CryptProtectData failed" : "CryptUnprotectData failed: not protected on this machine with this entropy");
  int code = write_stdout(out.pbData, out.cbData);
  SecureZeroMemory(out.pbData, out.cbData);
  LocalFree(out.pbData);
  return code;
}

/* The part of our own command line after the first `skip` arguments, exactly as our parent wrote
 * it: the program's arguments reach it with the quoting the agent chose, not re-quoted here.
 * Arguments are split the way the C runtime does for the ones skipped (no quotes inside them). */
static const wchar_t *command_line_after(const wchar_t *line, int skip) {
  const wchar_t *p = line;
  for (int i = 0; i < skip; i++) {
    while (*p == L' ' || *p == L'\t') p++;
    int quoted = 0;
    while (*p && (quoted || (*p != L' ' && *p != L'\t'))) {
      if (*p == L'"') quoted = !quoted;
      p++;
    }
  }
  while (*p == L' ' || *p == L'\t') p++;
  return p;
}

static ULONGLONG created_at(HANDLE process) {
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(process, &created, &exited, &kernel, &user)) return 0;
  return ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
}

/* The process that started this one, to wait on; NULL when it is gone already. A process id can be
 * reused once its process ended: one created after us is not our parent. */
static HANDLE open_parent(void) {
  DWORD self = GetCurrentProcessId(), parent_id = 0;
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return NULL;
  PROCESSENTRY32W entry;
  entry.dwSize = sizeof entry;
  for (BOOL more = Process32FirstW(snapshot, &entry); more; more = Process32NextW(snapshot, &entry)) {
    if (entry.th32ProcessID == self) { parent_id = entry.th32ParentProcessID; break; }
  }
  CloseHandle(snapshot);
  HANDLE parent = parent_id ? OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, parent_id) : NULL;
  if (parent && created_at(parent) > created_at(GetCurrentProcess())) {
    CloseHandle(parent);
    return NULL;
  }
  return parent;
}

static int jobrun(const char *limit) {
  char *end;
  unsigned long long mb = strtoull(limit, &end, 10);
  if (*limit == 0 || *end != 0) { fprintf(stderr, "pswm-native: jobrun: <max MiB> must be a number, got \"%s\"\n", limit); return EXIT_USAGE; }
  const wchar_t *program_line = command_line_after(GetCommandLineW(), 3);
  if (*program_line == 0) { fprintf(stderr, "pswm-native: jobrun: no program given\n"); return EXIT_USAGE; }

  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (!job) return fail(EXIT_JOB, "CreateJobObject failed");
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
  ZeroMemory(&limits, sizeof limits);
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (mb > 0) {
    limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
    limits.JobMemoryLimit = (SIZE_T)(mb * 1024 * 1024);
  }
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) return fail(EXIT_JOB, "SetInformationJobObject failed");
  /* the memory-limit notice arrives on a completion port */
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  JOBOBJECT_ASSOCIATE_COMPLETION_PORT association = { job, port };
  if (port) SetInformationJobObject(job, JobObjectAssociateCompletionPortInformation, &association, sizeof association);

  size_t chars = wcslen(program_line) + 1;
  wchar_t *mutable_line = malloc(chars * sizeof(wchar_t));
  memcpy(mutable_line, program_line, chars * sizeof(wchar_t));
  STARTUPINFOW startup;
  ZeroMemory(&startup, sizeof startup);
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION child;
  /* suspended until it is in the job: nothing it starts can escape */
  if (!CreateProcessW(NULL, mutable_line, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &startup, &child)) {
    fprintf(stderr, "pswm-native: cannot start %ls (Windows error %lu)\n", program_line, (unsigned long)GetLastError());
    return EXIT_START;
  }
  if (!AssignProcessToJobObject(job, child.hProcess)) {
    int code = fail(EXIT_JOB, "AssignProcessToJobObject failed");
    TerminateProcess(child.hProcess, EXIT_JOB);
    return code;
  }
  HANDLE parent = open_parent();
  ResumeThread(child.hThread);
  CloseHandle(child.hThread);
  HANDLE waits[2] = { child.hProcess, parent };
  if (WaitForMultipleObjects(parent ? 2 : 1, waits, FALSE, INFINITE) == WAIT_OBJECT_0 + 1) {
    fprintf(stderr, "pswm-native: the process that started this run ended; ending the run\n");
    CloseHandle(job);
    return EXIT_ORPHANED;
  }
  DWORD exit_code = 1;
  GetExitCodeProcess(child.hProcess, &exit_code);
  if (port && mb > 0) {
    DWORD message;
    ULONG_PTR key;
    LPOVERLAPPED detail;
    while (GetQueuedCompletionStatus(port, &message, &key, &detail, 0)) {
      if (message == JOB_OBJECT_MSG_JOB_MEMORY_LIMIT || message == JOB_OBJECT_MSG_PROCESS_MEMORY_LIMIT) {
        fprintf(stderr, "pswm-native: the script reached max_memory_mb (%llu MiB); an allocation was refused\n", mb);
        break;
      }
    }
  }
  /* closing the last handle ends whatever the program left running (kill-on-close) */
  CloseHandle(job);
  return (int)exit_code;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "protect") == 0) return dpapi(1, argv[2]);
  if (argc >= 3 && strcmp(argv[1], "unprotect") == 0) return dpapi(0, argv[2]);
  if (argc >= 4 && strcmp(argv[1], "jobrun") == 0) return jobrun(argv[2]);
  fprintf(stderr, "usage: pswm-native protect|unprotect <entropy> | jobrun <max MiB> <program> [args...]\n");
  return EXIT_USAGE;
}
