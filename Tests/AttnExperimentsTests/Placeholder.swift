// Tests arrive with the module (see its issue).
import Testing
