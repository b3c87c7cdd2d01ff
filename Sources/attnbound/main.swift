import AttnCLI
import Foundation

exit(Attnbound.run(arguments: Array(CommandLine.arguments.dropFirst())))
